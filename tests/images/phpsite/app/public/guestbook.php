<?php
require_once __DIR__ . '/../lib/layout.php';
// Entries persist in a JSON file the app writes (a volume in production).
$file = '/var/lib/phpsite/guestbook.json';
$entries = is_file($file) ? json_decode(file_get_contents($file), true) : [];
if ($_SERVER['REQUEST_METHOD'] === 'POST') {
    $text = trim($_POST['text'] ?? '');
    if ($text === '') {
        http_response_code(400);
        echo "empty entry\n";
        exit;
    }
    $entries[] = ['n' => count($entries) + 1, 'text' => $text];
    $tmp = $file . '.tmp';
    file_put_contents($tmp, json_encode($entries));
    rename($tmp, $file);
    http_response_code(201);
}
page_start('Guestbook');
echo '<h1>Guestbook (', count($entries), " entries)</h1>\n<ol>\n";
foreach ($entries as $entry) {
    echo '  <li>', e($entry['text']), "</li>\n";
}
echo "</ol>\n";
page_end();
