#!/usr/bin/env bash
# run.sh -- what `make run` does after building: load the demo data into the
# data directory (creating and migrating it), print how to log in, serve.
set -euo pipefail
bin=${1:?kefu binary}
data=${2:-data}
listen=${3:-127.0.0.1:8080}

logins=$("$bin" demo --data "$data")
cat <<MSG

  Kefu is starting on embedded SQLite ($data/kefu.db).

  Console: http://$listen/        (the agent console: log in with a demo login below)
  API:     http://$listen/api/v1/  (see docs/openapi.yaml)
  Chat:    http://$listen/widget-demo.html?key=$(echo "$logins" | sed -n 's/^chat widget key: //p')
           (a shop page with the chat widget; answer it in the console)

  Demo logins for the console (e-mail, password, role):
$(echo "$logins" | sed -n 's/^login: /    /p')

  Stop with Ctrl-C.

MSG
exec "$bin" serve --data "$data" --listen "$listen"
