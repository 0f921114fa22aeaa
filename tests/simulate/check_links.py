#!/usr/bin/env python3
"""The HPA model and simulator are pure computation: a test binary of them
must not load or contain the server stack (gRPC, protobuf, OpenSSL, libcurl,
cpp-httplib, Boost.Asio). Shared libraries are read with ldd, statically
linked ones (gRPC and protobuf come from static archives) from the symbol
table with nm.

Usage: check_links.py BINARY
Exit 0 when clean; 1 naming each library or symbol found.
"""
import re
import subprocess
import sys

FORBIDDEN_SHARED = re.compile(r"lib(ssl|crypto|curl|grpc|gpr|protobuf|absl|cpp-httplib|boost)")
FORBIDDEN_SYMBOLS = re.compile(r"\b(grpc|google::protobuf|SSL_CTX|EVP_|curl_easy|httplib|boost::asio)")


def main(argv):
    if len(argv) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    binary = argv[1]
    problems = []
    ldd = subprocess.run(["ldd", binary], capture_output=True, text=True, check=True).stdout
    for line in ldd.splitlines():
        name = line.strip().split(" ")[0]
        if FORBIDDEN_SHARED.search(name):
            problems.append(f"loads {name}")
    nm = subprocess.run(["nm", "-C", binary], capture_output=True, text=True, check=True).stdout
    found = {}
    for line in nm.splitlines():
        match = FORBIDDEN_SYMBOLS.search(line)
        if match:
            found.setdefault(match.group(1), line.strip())
    problems += [f"contains {what} symbols, e.g. {example}" for what, example in sorted(found.items())]
    for problem in problems:
        print(f"{binary}: {problem}")
    if not problems:
        print(f"{binary}: no gRPC, protobuf, OpenSSL, libcurl, cpp-httplib or Boost.Asio")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
