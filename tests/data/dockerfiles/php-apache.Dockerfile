FROM php:8.3-apache
RUN apt-get update && apt-get install -y libzip-dev unzip \
    && docker-php-ext-install zip
COPY --from=composer:2 /usr/bin/composer /usr/bin/composer
COPY . /var/www/html/
RUN composer install --no-dev
EXPOSE 80
