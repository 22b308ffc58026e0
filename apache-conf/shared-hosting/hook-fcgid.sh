#!/bin/sh
# Upload as ~/public_html/wc2sf/hook next to fcgid.htaccess (mode 0755).
# mod_fcgid runs it with the FastCGI socket on standard input, and exec
# hands that to wc2sf. Change both paths to where the program and the
# configuration really are (your host's control panel shows your home
# folder; "~" and $HOME may not be set here).
exec /home/USER/wc2sf/wc2sf.fcgi --config /home/USER/wc2sf/wc2sf.conf
