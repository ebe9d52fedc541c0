<?php
// Loaded only when a contact form is sent: formats the message the way the
// mail relay wants it and queues it in the spool directory.
final class Mailer
{
    public function __construct(private string $spool)
    {
    }

    public function queue(string $from, string $body): string
    {
        $subject = 'Contact from ' . $from;
        $encoded = mb_encode_mimeheader_or_plain($subject);
        $id = substr(hash('sha256', $from . "\n" . $body), 0, 12);
        $message = "Subject: $encoded\r\nX-Slug: " . slugify($from) . "\r\n\r\n" . wordwrap($body, 72, "\r\n", true) . "\r\n";
        if (!is_dir($this->spool)) {
            mkdir($this->spool, 0770, true);
        }
        file_put_contents($this->spool . "/$id.eml", $message);
        return $id;
    }
}

function mb_encode_mimeheader_or_plain(string $s): string
{
    // mbstring is an extra package; quoted-printable works everywhere.
    return preg_match('/[^\x20-\x7e]/', $s) ? '=?UTF-8?Q?' . str_replace(' ', '_', quoted_printable_encode($s)) . '?=' : $s;
}
