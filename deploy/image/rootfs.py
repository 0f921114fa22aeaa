#!/usr/bin/python3
"""Assembles the image's root filesystem from Debian packages and the binaries.

What goes in, and nothing else:
  * /usr/local/bin/prescale and prescale-server (stripped),
  * the shared libraries they load, found by walking the ELF DT_NEEDED
    entries from the binaries (and from libcurl, which the daemon opens with
    dlopen, adapters/curl_loader), taken from the Debian packages that own
    them: every shared object of those packages, the dynamic loader, no
    executables, no gconv modules, no manuals;
  * tzdata's zone files (local-time seasonality) and the CA certificates
    (Prometheus over TLS), as /etc/ssl/certs/ca-certificates.crt;
  * each package's copyright file, and its dpkg status stanza under
    /var/lib/dpkg/status.d/ (image scanners read it to know the versions);
  * /etc/passwd and /etc/group with the non-root user 65532, nsswitch.conf,
    an empty /tmp (1777). No shell.
Packages come either from the host's installed packages (their dpkg file
lists: the libraries the binaries were built and tested against) or from
.deb files (a cross build: `--debs DIR` with the target architecture's
packages, extracted with dpkg-deb).

Usage: rootfs.py --out DIR --arch amd64|arm64 --binaries A B [--debs DIR]
                 [--epoch SECONDS] [--manifest FILE]
Prints the package list; --manifest writes it (name version) with the
library closure.
"""
import argparse
import glob
import os
import re
import shutil
import struct
import subprocess
import sys

TRIPLET = {"amd64": "x86_64-linux-gnu", "arm64": "aarch64-linux-gnu"}
# Opened with dlopen at run time, so not in DT_NEEDED (adapters/curl_loader).
DLOPENED = ["libcurl.so.4"]
DATA_PACKAGES = ["tzdata", "ca-certificates"]


def elf_info(path):
    """(DT_NEEDED sonames, PT_INTERP) of a 64-bit little-endian ELF file."""
    with open(path, "rb") as f:
        data = f.read()
    if data[:4] != b"\x7fELF" or data[4] != 2 or data[5] != 1:
        raise ValueError(f"{path}: not a 64-bit little-endian ELF file")
    phoff, shoff = struct.unpack_from("<QQ", data, 0x20)
    phentsize, phnum, shentsize, shnum = struct.unpack_from("<HHHH", data, 0x36)
    interp = None
    for i in range(phnum):
        p_type, _, p_offset, _, _, p_filesz = struct.unpack_from("<IIQQQQ", data, phoff + i * phentsize)
        if p_type == 3:  # PT_INTERP
            interp = data[p_offset:p_offset + p_filesz].rstrip(b"\0").decode()
    sections = [struct.unpack_from("<IIQQQQIIQQ", data, shoff + i * shentsize) for i in range(shnum)]
    needed = []
    for sh_name, sh_type, _, _, sh_offset, sh_size, sh_link, _, _, sh_entsize in sections:
        if sh_type != 6:  # SHT_DYNAMIC
            continue
        strtab = sections[sh_link]
        str_offset = strtab[4]
        for entry in range(sh_size // 16):
            tag, value = struct.unpack_from("<qQ", data, sh_offset + entry * 16)
            if tag == 0:
                break
            if tag == 1:  # DT_NEEDED
                end = data.index(b"\0", str_offset + value)
                needed.append(data[str_offset + value:end].decode())
    return needed, interp


def library_closure(binaries, root, triplet):
    """Every shared object the binaries load (and DLOPENED), resolved under root."""
    search = [f"{root}/lib/{triplet}", f"{root}/usr/lib/{triplet}", f"{root}/lib", f"{root}/usr/lib"]
    found, interp, missing = {}, None, []
    queue = [(b, None) for b in binaries] + [(None, s) for s in DLOPENED]
    while queue:
        path, soname = queue.pop()
        if path is None:
            if soname in found:
                continue
            candidates = [os.path.join(d, soname) for d in search if os.path.exists(os.path.join(d, soname))]
            if not candidates:
                missing.append(soname)
                continue
            path = candidates[0]
            found[soname] = path
        needed, binary_interp = elf_info(path)
        interp = interp or binary_interp
        queue.extend((None, n) for n in needed if n not in found)
    if missing:
        sys.exit(f"rootfs: libraries not found under {root}: {', '.join(sorted(set(missing)))}")
    return found, interp


def owner_of(path):
    """The host package that owns a file (usr-merge aware)."""
    for candidate in (path, re.sub(r"^/usr/lib/", "/lib/", path), re.sub(r"^/lib/", "/usr/lib/", path)):
        result = subprocess.run(["dpkg", "-S", candidate], capture_output=True, text=True)
        if result.returncode == 0:
            return result.stdout.split(":")[0].split(",")[0].strip()
    sys.exit(f"rootfs: no Debian package owns {path}")


def wanted_file(path, triplet):
    """Files of a library package that belong in the image."""
    if re.search(r"/usr/share/doc/[^/]+/copyright$", path):
        return True
    if "/gconv/" in path:
        return False
    if path.startswith(("/usr/share/zoneinfo/", "/usr/share/ca-certificates/")):
        return True
    if re.match(rf"^(/usr)?/lib(64)?/({triplet}/)?", path) and re.search(r"\.so(\.[0-9.]+)?$", path):
        return True
    return bool(re.match(rf"^(/usr)?/lib/{triplet}/ossl-modules/", path))


def merged(path):
    """usr-merge: /lib/... lands in /usr/lib/... (the image links /lib -> usr/lib)."""
    for top in ("/lib/", "/lib64/", "/bin/", "/sbin/"):
        if path.startswith(top):
            return "/usr" + path
    return path


def copy_host_package(package, out, triplet):
    files = subprocess.run(["dpkg", "-L", package], capture_output=True, text=True, check=True).stdout.split("\n")
    for path in files:
        if not path or os.path.isdir(path) and not os.path.islink(path) or not wanted_file(path, triplet):
            continue
        if not os.path.lexists(path):
            continue
        destination = out + merged(path)
        os.makedirs(os.path.dirname(destination), exist_ok=True)
        if os.path.islink(path):
            if os.path.lexists(destination):
                os.unlink(destination)
            os.symlink(os.readlink(path), destination)
        else:
            shutil.copy2(path, destination)


def host_status(package):
    return subprocess.run(["dpkg", "-s", package], capture_output=True, text=True, check=True).stdout


def deb_for(package, debs):
    found = sorted(glob.glob(os.path.join(debs, f"{package}_*.deb")))
    if not found:
        sys.exit(f"rootfs: no {package}_*.deb in {debs}")
    return found[-1]


def extract_deb(package, debs, out, triplet, scratch):
    deb = deb_for(package, debs)
    tree = os.path.join(scratch, package)
    os.makedirs(tree, exist_ok=True)
    subprocess.run(["dpkg-deb", "-x", deb, tree], check=True)
    for dirpath, dirnames, filenames in os.walk(tree):
        for name in filenames + [d for d in dirnames if os.path.islink(os.path.join(dirpath, d))]:
            source = os.path.join(dirpath, name)
            path = "/" + os.path.relpath(source, tree)
            if not wanted_file(path, triplet):
                continue
            destination = out + merged(path)
            os.makedirs(os.path.dirname(destination), exist_ok=True)
            if os.path.islink(source):
                if os.path.lexists(destination):
                    os.unlink(destination)
                os.symlink(os.readlink(source), destination)
            else:
                shutil.copy2(source, destination)
    fields = subprocess.run(["dpkg-deb", "-f", deb], capture_output=True, text=True, check=True).stdout
    return "Package: {}\nStatus: install ok installed\n{}".format(
        package, "\n".join(l for l in fields.splitlines() if not l.startswith("Package:")) + "\n")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", required=True)
    parser.add_argument("--arch", choices=sorted(TRIPLET), required=True)
    parser.add_argument("--binaries", nargs="+", required=True)
    parser.add_argument("--debs", help="directory of the target architecture's .deb files (cross build)")
    parser.add_argument("--libroot", default="/", help="where the target's libraries are, to resolve DT_NEEDED")
    parser.add_argument("--epoch", type=int, default=0, help="mtime of every file (reproducible layers)")
    parser.add_argument("--manifest")
    parser.add_argument("--strip", default="strip")
    args = parser.parse_args()
    triplet = TRIPLET[args.arch]
    out = os.path.abspath(args.out)
    if os.path.exists(out):
        shutil.rmtree(out)
    os.makedirs(out)

    libraries, interp = library_closure(args.binaries, args.libroot.rstrip("/"), triplet)
    libroot = args.libroot.rstrip("/")
    if args.debs:
        # Which package owns each library, from the .debs' contents.
        contents = {}
        for deb in glob.glob(os.path.join(args.debs, "*.deb")):
            package = os.path.basename(deb).split("_")[0]
            listing = subprocess.run(["dpkg-deb", "-c", deb], capture_output=True, text=True).stdout
            for line in listing.splitlines():
                name = line.split()[5].lstrip(".")
                contents.setdefault(os.path.basename(name), package)
        packages = set()
        for soname in list(libraries) + [os.path.basename(interp)]:
            if soname not in contents:
                sys.exit(f"rootfs: no .deb in {args.debs} holds {soname}")
            packages.add(contents[soname])
    else:
        packages = {owner_of(os.path.realpath(p)) for p in libraries.values()}
        packages.add(owner_of(os.path.realpath(interp)))
    packages |= set(DATA_PACKAGES)

    status_dir = os.path.join(out, "var/lib/dpkg/status.d")
    os.makedirs(status_dir)
    scratch = os.path.join(os.path.dirname(out), os.path.basename(out) + ".debs")
    versions = {}
    for package in sorted(packages):
        if args.debs:
            stanza = extract_deb(package, args.debs, out, triplet, scratch)
        else:
            copy_host_package(package, out, triplet)
            stanza = host_status(package)
        versions[package] = re.search(r"(?m)^Version: (.+)$", stanza).group(1)
        with open(os.path.join(status_dir, package), "w") as f:
            f.write(stanza)
    shutil.rmtree(scratch, ignore_errors=True)

    # usr-merged layout, as Debian bookworm: the loader's path (/lib64/... or
    # /lib/...) resolves through these links.
    for link, target in (("lib", "usr/lib"), ("lib64", "usr/lib64"), ("bin", "usr/bin"), ("sbin", "usr/sbin")):
        os.makedirs(os.path.join(out, target), exist_ok=True)
        os.symlink(target, os.path.join(out, link))

    # The CA bundle update-ca-certificates would make: every certificate the
    # package ships (Debian enables all of them by default).
    bundle = os.path.join(out, "etc/ssl/certs/ca-certificates.crt")
    os.makedirs(os.path.dirname(bundle))
    with open(bundle, "w") as f:
        for crt in sorted(glob.glob(os.path.join(out, "usr/share/ca-certificates/**/*.crt"), recursive=True)):
            with open(crt) as c:
                f.write(c.read().rstrip("\n") + "\n")

    bin_dir = os.path.join(out, "usr/local/bin")
    os.makedirs(bin_dir)
    for binary in args.binaries:
        destination = os.path.join(bin_dir, os.path.basename(binary))
        subprocess.run([args.strip, "-o", destination, binary], check=True)
        os.chmod(destination, 0o755)

    etc = os.path.join(out, "etc")
    with open(os.path.join(etc, "passwd"), "w") as f:
        f.write("root:x:0:0:root:/root:/usr/sbin/nologin\n"
                "prescale:x:65532:65532:prescale:/nonexistent:/usr/sbin/nologin\n")
    with open(os.path.join(etc, "group"), "w") as f:
        f.write("root:x:0:\nprescale:x:65532:\n")
    with open(os.path.join(etc, "nsswitch.conf"), "w") as f:
        f.write("passwd: files\ngroup: files\nhosts: files dns\n")
    os.makedirs(os.path.join(etc, "prescale"))
    os.makedirs(os.path.join(out, "tmp"))
    os.chmod(os.path.join(out, "tmp"), 0o1777)
    license_dir = os.path.join(out, "usr/share/doc/prescale")
    os.makedirs(license_dir, exist_ok=True)
    shutil.copy(os.path.join(os.path.dirname(os.path.abspath(__file__)), "../../LICENSE"),
                os.path.join(license_dir, "copyright"))

    # The image must resolve every library by itself.
    inside, _ = library_closure([os.path.join(bin_dir, os.path.basename(b)) for b in args.binaries], out, triplet)
    if not os.path.exists(out + merged(interp)):
        sys.exit(f"rootfs: the dynamic loader {interp} is missing")

    for dirpath, dirnames, filenames in os.walk(out):
        for name in dirnames + filenames:
            os.utime(os.path.join(dirpath, name), (args.epoch, args.epoch), follow_symlinks=False)
    os.utime(out, (args.epoch, args.epoch))

    lines = [f"{p} {versions[p]}" for p in sorted(versions)]
    if args.manifest:
        with open(args.manifest, "w") as f:
            f.write("# packages\n" + "\n".join(lines) + "\n# libraries (soname -> path in the image)\n")
            for soname in sorted(inside):
                f.write(f"{soname} /{os.path.relpath(os.path.realpath(inside[soname]), out)}\n")
            f.write(f"# loader\n{interp}\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
