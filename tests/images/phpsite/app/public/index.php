<?php
require_once __DIR__ . '/../lib/layout.php';
page_start('Home');
?>
<h1>Welcome to phpsite</h1>
<p>A small shop with a contact form and a guestbook, served by nginx and PHP-FPM.</p>
<ul>
  <li><a href="/products.php">Products</a></li>
  <li><a href="/time.php?tz=Europe/Paris">Opening hours in your time zone</a></li>
  <li><a href="/contact.php">Contact us</a></li>
</ul>
<?php
page_end();
