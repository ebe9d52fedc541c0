<?php
// A broken page: the report module was never written.
require_once __DIR__ . '/../lib/layout.php';
page_start('Report');
echo render_sales_report();
page_end();
