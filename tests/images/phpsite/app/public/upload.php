<?php
require_once __DIR__ . '/../lib/layout.php';
// Avatars: an image upload, checked by its content (not its name), then stored.
if ($_SERVER['REQUEST_METHOD'] !== 'POST') {
    page_start('Upload');
    echo "<h1>Upload an avatar</h1>\n<form method=\"post\" enctype=\"multipart/form-data\"><input type=\"file\" name=\"avatar\"><button>Upload</button></form>\n";
    page_end();
    exit;
}
$file = $_FILES['avatar'] ?? null;
if ($file === null || $file['error'] !== UPLOAD_ERR_OK) {
    http_response_code(400);
    header('Content-Type: application/json');
    echo json_encode(['error' => 'no file']), "\n";
    exit;
}
$mime = (new finfo(FILEINFO_MIME_TYPE))->file($file['tmp_name']);
$allowed = ['image/png' => 'png', 'image/gif' => 'gif', 'image/jpeg' => 'jpg'];
header('Content-Type: application/json');
if (!isset($allowed[$mime])) {
    http_response_code(415);
    echo json_encode(['error' => 'not an image', 'mime' => $mime]), "\n";
    exit;
}
$sha = sha1_file($file['tmp_name']);
$dir = '/var/lib/phpsite/avatars';
if (!is_dir($dir)) {
    mkdir($dir, 0750);
}
$stored = move_uploaded_file($file['tmp_name'], "$dir/$sha." . $allowed[$mime]);
http_response_code($stored ? 201 : 500);
echo json_encode(['mime' => $mime, 'bytes' => $file['size'], 'sha1' => $sha, 'stored' => $stored]), "\n";
