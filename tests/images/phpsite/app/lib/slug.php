<?php
// URL slugs from titles in any language: transliterate to ASCII, then keep
// letters, digits and dashes.
function slugify(string $title): string
{
    $ascii = iconv('UTF-8', 'ASCII//TRANSLIT', $title);
    if ($ascii === false) {
        $ascii = $title;
    }
    $slug = strtolower(trim(preg_replace('/[^A-Za-z0-9]+/', '-', $ascii), '-'));
    return $slug === '' ? 'n-a' : $slug;
}
