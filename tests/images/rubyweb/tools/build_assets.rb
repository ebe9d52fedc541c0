# The asset step: writes public/js/app.js (about 200 KB, as bundlers make them).
dir = File.join(__dir__, '..', 'public', 'js')
Dir.mkdir(dir) unless Dir.exist?(dir)
File.open(File.join(dir, 'app.js'), 'w') do |f|
  f.puts '// built by tools/build_assets.rb'
  4000.times { |i| f.puts "function f#{i}(x) { return x * #{i} + #{i % 7}; } // padding padding" }
end
