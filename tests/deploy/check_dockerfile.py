#!/usr/bin/python3
"""Checks the Dockerfile without a Docker engine (none runs on CI machines).

* The build stage installs every package scripts/install-deps lists for
  `build`, so the image builds what `make` builds.
* The final stage installs, directly or through Debian dependencies, the
  package of every shared library the real `prescale` and `prescale-server`
  binaries load (ldd + dpkg -S), so the slim image can start them.
* The final stage runs as a fixed non-root UID and has both binaries in
  /usr/local/bin (`prescale serve` runs the prescale-server beside it).

Usage: check_dockerfile.py DOCKERFILE INSTALL_DEPS PRESCALE_BINARY
(prescale-server is looked for beside PRESCALE_BINARY)
"""
import os
import re
import subprocess
import sys

dockerfile, install_deps, binary = sys.argv[1:4]
text = open(dockerfile).read()
stages = re.split(r"(?m)^FROM ", text)[1:]
if len(stages) < 2:
    sys.exit("Dockerfile: expected a multi-stage build (build stage + final stage)")
build_stage, final_stage = stages[0], stages[-1]


def words_after_install(stage):
    # Only the words of the apt-get install command itself, up to '&&'.
    found = set()
    for match in re.finditer(r"apt-get install([^&]*)", stage.replace("\\\n", " ")):
        for word in match.group(1).split():
            if not word.startswith("-"):
                found.add(word)
    return found


failures = []
build_pkgs = words_after_install(build_stage)
final_pkgs = words_after_install(final_stage)

wanted = subprocess.run(["bash", "-c", f"source <(sed -n '/^packages_for()/,/^}}/p' {install_deps}); packages_for build"],
                        capture_output=True, text=True, check=True).stdout.split()
for pkg in wanted:
    if pkg in {"ccache", "catch2"}:  # build speed and tests only; the image builds without tests
        continue
    if pkg not in build_pkgs:
        failures.append(f"build stage does not install '{pkg}' (scripts/install-deps build lists it)")

# Packages the final stage provides: its list, Debian's essential base, and all their dependencies.
base = {"libc6", "libgcc-s1", "libstdc++6", "zlib1g", "libzstd1", "liblzma5", "libbz2-1.0", "libcrypt1",
        "libselinux1", "libpcre2-8-0", "libsystemd0", "libgcrypt20", "libgpg-error0", "liblz4-1",
        "libcap2", "libacl1", "libattr1", "libtinfo6", "libudev1", "libdb5.3", "libaudit1",
        "libaudit-common", "libcap-ng0", "libsemanage2", "libsepol2", "debconf"}
closure = subprocess.run(
    ["apt-cache", "depends", "--recurse", "--no-recommends", "--no-suggests", "--no-conflicts",
     "--no-breaks", "--no-replaces", "--no-enhances", "--no-pre-depends", *sorted(final_pkgs)],
    capture_output=True, text=True).stdout
provided = set(base) | final_pkgs
for line in closure.splitlines():
    line = line.strip()
    if line.startswith("Depends:"):
        line = line.split(":", 1)[1].strip()
    name = line.strip("<>").split(":")[0]
    if re.fullmatch(r"[a-z0-9][a-z0-9+.-]+", name):
        provided.add(name)

server = os.path.join(os.path.dirname(binary), "prescale-server")
if not os.path.exists(server):
    sys.exit(f"{server} not found: build it (it is built with prescale)")
ldd = "".join(subprocess.run(["ldd", b], capture_output=True, text=True, check=True).stdout
              for b in (binary, server))
# Libraries opened with dlopen do not show in ldd: the curl loader names its soname,
# looked up in the directory the binary's libc comes from (the same architecture).
libc_dir = os.path.dirname(re.search(r"libc\.so\.6 => (/\S+)", ldd).group(1))
loader = open(os.path.join(os.path.dirname(os.path.abspath(dockerfile)), "adapters/curl_loader/src/curl_loader.cpp")).read()
for soname in re.findall(r'library_name\(\) \{ return "([^"]+)"; \}', loader):
    path = os.path.join(libc_dir, soname)
    if not os.path.exists(path):
        failures.append(f"{soname} (opened at run time) is not in {libc_dir}")
    else:
        ldd += f"\t{soname} => {path} (dlopen)\n"
for line in ldd.splitlines():
    match = re.search(r"=> (/\S+)", line)
    if not match:
        continue
    owner = subprocess.run(["dpkg", "-S", match.group(1)], capture_output=True, text=True)
    if owner.returncode != 0:
        # usr-merge: /lib/x86_64-linux-gnu vs /usr/lib/x86_64-linux-gnu
        alt = match.group(1).replace("/lib/", "/usr/lib/", 1) if not match.group(1).startswith("/usr/") \
            else match.group(1).replace("/usr/lib/", "/lib/", 1)
        owner = subprocess.run(["dpkg", "-S", alt], capture_output=True, text=True)
    if owner.returncode != 0:
        failures.append(f"{match.group(1)}: no Debian package owns it")
        continue
    package = owner.stdout.split(":")[0]
    if package not in provided:
        failures.append(f"the binary loads {match.group(1)} from '{package}', which the final stage does not install")

if not re.search(r"(?m)^USER 65532", final_stage):
    failures.append("final stage must run as the fixed non-root UID 65532")
installed = set()
for match in re.finditer(r"(?m)^COPY --from=\S+ (.+) (\S+)$", final_stage):
    sources, destination = match.group(1).split(), match.group(2)
    if destination.endswith("/"):
        installed.update(destination + os.path.basename(src) for src in sources)
    else:
        installed.add(destination)
for path in ("/usr/local/bin/prescale", "/usr/local/bin/prescale-server"):
    if path not in installed:
        failures.append(f"final stage must put a binary at {path}")
if "-march=native" in text:
    failures.append("the image must be built for a generic CPU (no -march=native)")

if failures:
    print("\n".join(failures))
    sys.exit(1)
print(f"Dockerfile: build stage covers {len(wanted)} build packages; final stage provides every "
      f"library the binaries load ({len(final_pkgs)} packages listed)")
