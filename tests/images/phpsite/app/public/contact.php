<?php
require_once __DIR__ . '/../lib/layout.php';

if ($_SERVER['REQUEST_METHOD'] === 'POST') {
    $name = trim($_POST['name'] ?? '');
    $message = trim($_POST['message'] ?? '');
    if ($name === '' || $message === '') {
        http_response_code(400);
        page_start('Contact');
        echo "<p class=\"error\">Name and message are required.</p>\n";
        page_end();
        exit;
    }
    // Only a sent form needs the mailer.
    require_once __DIR__ . '/../lib/slug.php';
    require_once __DIR__ . '/../lib/Mailer.php';
    $id = (new Mailer('/tmp/phpsite-spool'))->queue($name, $message);
    page_start('Thanks');
    echo '<h1>Thanks, ', e($name), "</h1>\n<p>Your message is queued as <code>", e($id), "</code>.</p>\n";
    page_end();
    exit;
}
if ($_SERVER['REQUEST_METHOD'] !== 'GET' && $_SERVER['REQUEST_METHOD'] !== 'HEAD') {
    http_response_code(405);
    header('Allow: GET, POST');
    echo "method not allowed\n";
    exit;
}
page_start('Contact');
?>
<h1>Contact us</h1>
<form method="post" action="/contact.php">
  <label>Name <input name="name"></label>
  <label>Message <textarea name="message"></textarea></label>
  <button>Send</button>
</form>
<?php
page_end();
