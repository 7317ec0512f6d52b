#!/bin/sh
# Fails when src/ calls a function we do not use: unbounded string writers
# and weak randomness (libsodium is the only source of randomness).
cd "$(dirname "$0")/../.." || exit 2
hits=$(grep -nE '\b(sprintf|vsprintf|strcpy|strcat|gets|rand|srand|random|atoi|atol)[[:space:]]*\(' \
         src/*.c src/*.h | grep -vE '\b(snprintf|vsnprintf)\(')
[ -z "$hits" ] && exit 0
echo "banned calls in src/:"
echo "$hits"
exit 1
