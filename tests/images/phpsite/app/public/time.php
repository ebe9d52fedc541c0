<?php
require_once __DIR__ . '/../lib/layout.php';
// The shop opens at 09:00 in Copenhagen; show that instant in the visitor's zone.
$tz = $_GET['tz'] ?? 'UTC';
try {
    $zone = new DateTimeZone($tz);
} catch (Exception $e) {
    http_response_code(400);
    page_start('Unknown time zone');
    echo '<h1>Unknown time zone</h1><p>', e($tz), "</p>\n";
    page_end();
    exit;
}
$opening = new DateTimeImmutable('2026-07-14 09:00', new DateTimeZone('Europe/Copenhagen'));
$local = $opening->setTimezone($zone);
page_start('Opening hours');
echo '<h1>We open at ', e($local->format('H:i T (P)')), ' in ', e($tz), "</h1>\n";
page_end();
