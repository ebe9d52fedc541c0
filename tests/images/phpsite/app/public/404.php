<?php
require_once __DIR__ . '/../lib/layout.php';
http_response_code(404);
page_start('Not found');
echo '<h1>Not found</h1><p>There is no page at <code>', e($_SERVER['REQUEST_URI'] ?? ''), "</code>.</p>\n";
page_end();
