<?php
// Counts a visitor's visits in the PHP session.
session_start();
$_SESSION['visits'] = ($_SESSION['visits'] ?? 0) + 1;
header('Content-Type: text/plain');
echo 'visits: ', $_SESSION['visits'], "\n";
