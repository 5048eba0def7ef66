#!/usr/bin/env bash
# Installs the Debian packages kjdd's tests need when they are missing:
# xmllint validates every SOAP answer against the IHE schemas, the tests
# start their own redis-server, and test/wsdl binds kjdd's WSDLs with
# python-zeep under Debian's python3. Safe to run again; does nothing when
# all is there.
set -euo pipefail
need=()
command -v xmllint >/dev/null 2>&1 || need+=(libxml2-utils)
command -v redis-server >/dev/null 2>&1 || need+=(redis-server)
/usr/bin/python3 -c 'import zeep' >/dev/null 2>&1 || need+=(python3-zeep)
[ ${#need[@]} -eq 0 ] && exit 0
echo "installing: ${need[*]}" >&2
sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends "${need[@]}"
