package ShopApp::Items;
use strict;
use warnings;
use parent 'Exporter';

our @EXPORT_OK = qw(all_items find_item);

my @ITEMS = (
    { id => 1, name => 'Teapot', price => 24.5,  stock => 12 },
    { id => 2, name => 'Kettle', price => 39,    stock => 0 },
    { id => 3, name => 'Cup',    price => 4.75,  stock => 1200 },
);

sub all_items { return @ITEMS }

sub find_item {
    my ($id) = @_;
    my ($item) = grep { $_->{id} == ( $id // 0 ) } @ITEMS;
    return $item;
}

1;
