<?php
// Header and footer every page shares.
function page_start(string $title): void
{
    $t = htmlspecialchars($title);
    echo <<<HTML
<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <title>$t - phpsite</title>
  <link rel="stylesheet" href="/css/site.css">
</head>
<body>
<header><img src="/img/logo.svg" alt="" width="20" height="20"> <a href="/">phpsite</a></header>
<main>

HTML;
}

function page_end(): void
{
    echo <<<HTML

</main>
<footer><a href="/about.php">About</a> · <a href="/products.php">Products</a> · <a href="/contact.php">Contact</a> · <a href="/guestbook.php">Guestbook</a></footer>
</body>
</html>

HTML;
}

function e(string $s): string
{
    return htmlspecialchars($s, ENT_QUOTES, 'UTF-8');
}
