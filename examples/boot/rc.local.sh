#!/bin/sh
# Without systemd (this project's CI machines have none): call this from /etc/rc.local or
# an init script once the file systems are mounted.
exec /usr/local/bin/minidocker system boot
