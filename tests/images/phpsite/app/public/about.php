<?php
require_once __DIR__ . '/../lib/layout.php';
page_start('About');
?>
<h1>About phpsite</h1>
<p>Running PHP <?= e(PHP_MAJOR_VERSION . '.' . PHP_MINOR_VERSION) ?> behind nginx.</p>
<?php
page_end();
