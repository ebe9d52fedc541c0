<?php
require_once __DIR__ . '/../lib/layout.php';
require_once __DIR__ . '/../lib/catalog.php';
require_once __DIR__ . '/../lib/slug.php';

$format = $_GET['format'] ?? 'html';
if (isset($_GET['id'])) {
    $p = product((int) $_GET['id']);
    if ($p === null) {
        http_response_code(404);
        if ($format === 'json') {
            header('Content-Type: application/json');
            echo json_encode(['error' => 'no such product']), "\n";
            exit;
        }
        page_start('No such product');
        echo "<h1>No such product</h1>\n";
        page_end();
        exit;
    }
    $items = [$p];
} else {
    $items = catalog();
}
foreach ($items as &$p) {
    $p['slug'] = slugify($p['name']);
    $p['price'] = price($p['cents'], $p['currency']);
}
unset($p);
if ($format === 'json') {
    header('Content-Type: application/json');
    echo json_encode($items, JSON_UNESCAPED_UNICODE | JSON_PRETTY_PRINT), "\n";
    exit;
}
if ($format === 'csv') {
    // Excel on Windows wants its own code page: ?charset=windows-1252.
    $charset = strtolower($_GET['charset'] ?? 'utf-8');
    header("Content-Type: text/csv; charset=$charset");
    $out = fopen('php://output', 'w');
    fputcsv($out, ['id', 'name', 'slug', 'price']);
    foreach ($items as $p) {
        $name = $charset === 'utf-8' ? $p['name'] : iconv('UTF-8', "$charset//TRANSLIT", $p['name']);
        fputcsv($out, [$p['id'], $name, $p['slug'], $p['price']]);
    }
    exit;
}
page_start('Products');
echo "<h1>Products</h1>\n<ul>\n";
foreach ($items as $p) {
    printf("  <li><a href=\"/products.php?id=%d\">%s</a> (%s) <code>%s</code></li>\n", $p['id'], e($p['name']), e($p['price']), e($p['slug']));
}
echo "</ul>\n";
page_end();
