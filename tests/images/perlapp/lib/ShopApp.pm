package ShopApp;
# pare-test/perlapp: a small Dancer2 shop. Modules a route needs only now and then
# are loaded when that route is first called, as real apps do: Template Toolkit
# loads a plugin at the first page that says `USE`, Encode its Japanese tables at
# the first Shift_JIS text, and the app itself Digest::SHA and its JSON encoder.
use Dancer2;
use ShopApp::Items qw(all_items find_item);

get '/' => sub {
    template 'index' => { items => [ all_items() ] };
};

get '/about' => sub {
    template 'about';
};

get '/items/:id' => sub {
    my $item = find_item( route_parameters->get('id') );
    send_error( 'No such item', 404 ) unless $item;
    template 'item' => { item => $item };
};

get '/time' => sub {
    # A fixed moment (2024-06-15 08:00 UTC), so that every run says the same.
    template 'time' => { moment => 1718438400 };
};

get '/prices' => sub {
    template 'prices' => { items => [ all_items() ] };
};

post '/order' => sub {
    my $name = body_parameters->get('name') // '';
    my $note = body_parameters->get('note') // '';
    $name =~ s/^\s+|\s+$//g;
    if ( $name eq '' ) {
        status 422;
        return template 'order_error';
    }
    template 'ordered' => { name => $name, length => length $note };
};

get '/api/items.json' => sub {
    require JSON::PP;
    content_type 'application/json';
    return JSON::PP->new->canonical->pretty->encode( [ all_items() ] );
};

get '/digest' => sub {
    require Digest::SHA;
    my $text = query_parameters->get('text') // '';
    content_type 'text/plain';
    return Digest::SHA::sha256_hex($text) . "\n";
};

# A menu for a shop in Japan, in the encoding its customers' terminals want.
get '/menu.sjis' => sub {
    require Encode;
    content_type 'text/plain; charset=Shift_JIS';
    my $menu = "\x{304a}\x{8336} 300\x{5186}\n\x{30b1}\x{30fc}\x{30ad} 450\x{5186}\n";
    return Encode::encode( 'shiftjis', $menu );
};

get '/boom' => sub {
    die "the shop is on fire\n";
};

1;
