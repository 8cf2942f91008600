#!/bin/sh
# Initialise the data directory once, create the database and user, then run mysqld.
set -eu
datadir=/var/lib/mysql
# Debian's package already ships a system database, so a marker (not the presence of
# $datadir/mysql) tells whether the database and user have been created.
if [ ! -f "$datadir/.codeexec-initialised" ]; then
    [ -d "$datadir/mysql" ] || mariadb-install-db --user=mysql --datadir="$datadir" --skip-test-db >/dev/null
    mysqld --user=mysql --datadir="$datadir" --skip-networking --socket=/run/mysqld/init.sock &
    pid=$!
    until mysqladmin --socket=/run/mysqld/init.sock ping --silent 2>/dev/null; do sleep 0.5; done
    mysql --socket=/run/mysqld/init.sock <<SQL
CREATE DATABASE IF NOT EXISTS \`${MYSQL_DATABASE:-codeexec}\` CHARACTER SET utf8mb4;
CREATE USER IF NOT EXISTS '${MYSQL_USER:-codeexec}'@'%' IDENTIFIED BY '${MYSQL_PASSWORD:-codeexec}';
GRANT ALL ON \`${MYSQL_DATABASE:-codeexec}\`.* TO '${MYSQL_USER:-codeexec}'@'%';
ALTER USER 'root'@'localhost' IDENTIFIED BY '${MYSQL_ROOT_PASSWORD:-root}';
FLUSH PRIVILEGES;
SQL
    mysqladmin --socket=/run/mysqld/init.sock -uroot -p"${MYSQL_ROOT_PASSWORD:-root}" shutdown
    wait "$pid" || true
    touch "$datadir/.codeexec-initialised"
fi
exec mysqld --user=mysql --datadir="$datadir" --bind-address=0.0.0.0 "$@"
