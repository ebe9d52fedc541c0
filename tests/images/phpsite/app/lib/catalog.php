<?php
// The product catalog, read from data/products.json.
function catalog(): array
{
    $raw = file_get_contents(__DIR__ . '/../data/products.json');
    return json_decode($raw, true, 512, JSON_THROW_ON_ERROR);
}

function product(int $id): ?array
{
    foreach (catalog() as $p) {
        if ($p['id'] === $id) {
            return $p;
        }
    }
    return null;
}

function price(int $cents, string $currency): string
{
    return sprintf('%s %d.%02d', $currency, intdiv($cents, 100), $cents % 100);
}
