# pare-test/rubyweb: a small Sinatra shop. Libraries a route needs only now and then
# (json, csv, digest, and Ruby's transcoders) are loaded when that route is first
# called, as real apps do.
require 'sinatra'

set :port, 8091
set :bind, '0.0.0.0'
set :public_folder, File.join(__dir__, 'public')
set :views, File.join(__dir__, 'views')

ITEMS = {
  1 => { name: 'Teapot', price: '24.50', stock: 12 },
  2 => { name: 'Kettle', price: '39.00', stock: 0 },
  3 => { name: 'Cup', price: '4.75', stock: 1200 }
}.freeze

helpers do
  def h(text)
    Rack::Utils.escape_html(text.to_s)
  end
end

get '/' do
  erb :index
end

get '/about' do
  erb :about
end

get '/items' do
  erb :items
end

get '/items/:id' do
  @item = ITEMS[params[:id].to_i]
  halt 404 unless @item
  erb :item
end

post '/items' do
  @name = params[:name].to_s.strip
  @qty = Integer(params[:qty], exception: false)
  if @name.empty? || @qty.nil?
    status 422
    return erb(:item_form_error)
  end
  status 201
  erb :created
end

post '/upload' do
  require 'digest'
  file = params[:file]
  halt 400, "no file\n" unless file.is_a?(Hash) && file[:tempfile]
  data = file[:tempfile].read
  content_type 'text/plain'
  "#{file[:filename]} #{file[:type]} #{data.bytesize} #{Digest::SHA256.hexdigest(data)}\n"
end

get '/api/items.json' do
  require 'json'
  content_type :json
  JSON.pretty_generate(ITEMS.map { |id, item| item.merge(id: id) })
end

get '/report.csv' do
  require 'csv'
  content_type 'text/csv'
  CSV.generate do |csv|
    csv << %w[id name price stock]
    ITEMS.each { |id, item| csv << [id, item[:name], item[:price], item[:stock]] }
  end
end

# A menu for a shop in Japan, in the encoding its customers' terminals want.
get '/menu.sjis' do
  content_type 'text/plain; charset=Shift_JIS'
  "お茶 300円\nケーキ 450円\n".encode('Shift_JIS')
end

get '/menu.latin1' do
  content_type 'text/plain; charset=ISO-8859-1'
  "Crème brûlée 6 €\n".encode('ISO-8859-15')
end

# The opening hour of the shop (10:00 in Paris, summer 2024) in a customer's zone.
get '/time/*' do
  zone = params[:splat].first
  ENV['TZ'] = zone
  t = Time.at(1_718_438_400).localtime
  ENV.delete('TZ')
  content_type 'text/plain'
  "#{zone}: #{t.strftime('%Y-%m-%d %H:%M %Z %z')}\n"
end

get '/boom' do
  raise 'the shop is on fire'
end

not_found do
  erb :not_found
end

error do
  erb :error
end
