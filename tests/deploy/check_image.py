#!/usr/bin/python3
"""Builds the container image (deploy/image/build) and runs it.

* The image: an OCI layout with two layers (Debian packages, binaries),
  config user 65532:65532, entrypoint /usr/local/bin/prescale, and the same
  user, entrypoint, command and ports as the Dockerfile's final stage.
* Unpacked with umoci, its root filesystem has no shell and no script, and
  resolves every library the binaries load, libcurl (opened with dlopen)
  included, from inside: the image's own loader lists them (ld.so --list)
  and they are the libraries the build's binaries load on this machine.
* It runs: `podman run` is tried first; where the container runtime cannot
  start here (this sandbox refuses its setrlimit), the root filesystem runs
  under chroot as UID 65532 with its own /proc. `prescale --help` and
  `prescale demo --duration 20` run from the image, and curl reads the
  forecast the demo serves over HTTPS from outside.
* Its size is printed, and must stay under the limits below.

Usage: check_image.py SOURCE_DIR BUILD_DIR WORK_DIR
Exit 77 (skipped) only when neither podman nor chroot can run here.
"""
import json
import os
import re
import shutil
import subprocess
import sys
import threading
import time

SOURCE, BUILD, WORK = sys.argv[1:4]
MAX_COMPRESSED_MB = 40   # both layers, gzip: 19 MB at 0.2.0
MAX_UNPACKED_MB = 100    # root filesystem on disk: 46 MB at 0.2.0
failures = []


def fail(message):
    failures.append(message)
    print(f"FAIL {message}")


def run(args, **kwargs):
    return subprocess.run(args, capture_output=True, text=True, **kwargs)


# ---- build -------------------------------------------------------------------
started = time.monotonic()
build = run([os.path.join(SOURCE, "deploy/image/build"), "--build-dir", BUILD, "--out", WORK])
if build.returncode != 0:
    sys.exit(f"deploy/image/build failed:\n{build.stdout}\n{build.stderr}")
print(build.stdout.strip(), f"(built in {time.monotonic() - started:.0f} s)")
version = re.search(r"project\(prescale VERSION ([0-9.]+)", open(os.path.join(SOURCE, "CMakeLists.txt")).read()).group(1)
tag = f"{version}-amd64"
layout = os.path.join(WORK, "oci")


def blob(digest):
    return os.path.join(layout, "blobs", *digest.split(":"))


index = json.load(open(os.path.join(layout, "index.json")))
descriptor = next(m for m in index["manifests"]
                  if m.get("annotations", {}).get("org.opencontainers.image.ref.name") == tag)
manifest = json.load(open(blob(descriptor["digest"])))
config = json.load(open(blob(manifest["config"]["digest"])))
image_config = config["config"]
layers = manifest["layers"]
compressed = sum(layer["size"] for layer in layers)
layer_sizes = ", ".join("%.1f MB" % (layer["size"] / 1e6) for layer in layers)
print(f"layers: {len(layers)} ({layer_sizes}), "
      f"{compressed / 1e6:.1f} MB compressed; history: "
      + "; ".join(h.get("comment", "") for h in config.get("history", []) if h.get("comment")))
if len(layers) != 2:
    fail(f"expected 2 layers (Debian packages, binaries), found {len(layers)}")
if compressed > MAX_COMPRESSED_MB * 1e6:
    fail(f"image is {compressed / 1e6:.1f} MB compressed, over {MAX_COMPRESSED_MB} MB")
if image_config.get("User") != "65532:65532":
    fail(f"image user is {image_config.get('User')!r}, not 65532:65532")
if image_config.get("Entrypoint") != ["/usr/local/bin/prescale"]:
    fail(f"entrypoint is {image_config.get('Entrypoint')}")
if config.get("architecture") != "amd64" or config.get("os") != "linux":
    fail(f"platform is {config.get('os')}/{config.get('architecture')}")

# The Dockerfile builds the same image with a container engine.
dockerfile = open(os.path.join(SOURCE, "Dockerfile")).read()
final = re.split(r"(?m)^FROM ", dockerfile)[-1]
user = re.search(r"(?m)^USER (\S+)", final)
entrypoint = re.search(r"(?m)^ENTRYPOINT (.+)$", final)
cmd = re.search(r"(?m)^CMD (.+)$", final)
exposed = set(re.findall(r"(?m)^EXPOSE (.+)$", final)[0].split()) if "EXPOSE" in final else set()
if not user or user.group(1) != image_config.get("User"):
    fail(f"Dockerfile USER {user and user.group(1)} differs from the image's {image_config.get('User')}")
if not entrypoint or json.loads(entrypoint.group(1)) != image_config.get("Entrypoint"):
    fail("Dockerfile ENTRYPOINT differs from the image's")
if not cmd or json.loads(cmd.group(1)) != image_config.get("Cmd"):
    fail(f"Dockerfile CMD differs from the image's {image_config.get('Cmd')}")
if {f"{p}/tcp" if "/" not in p else p for p in exposed} != set(image_config.get("ExposedPorts", {})):
    fail(f"Dockerfile EXPOSE {sorted(exposed)} differs from the image's {sorted(image_config.get('ExposedPorts', {}))}")

# ---- unpack and inspect ----------------------------------------------------------
bundle = os.path.join(WORK, "bundle")
shutil.rmtree(bundle, ignore_errors=True)
rootless = [] if os.geteuid() == 0 else ["--rootless"]
unpacked = run(["umoci", "unpack", *rootless, "--image", f"{layout}:{tag}", bundle])
if unpacked.returncode != 0:
    sys.exit(f"umoci unpack failed: {unpacked.stderr}")
rootfs = os.path.join(bundle, "rootfs")
unpacked_bytes = 0
for dirpath, dirnames, filenames in os.walk(rootfs):
    for name in filenames:
        path = os.path.join(dirpath, name)
        if os.path.islink(path):
            continue
        unpacked_bytes += os.path.getsize(path)
        if name in {"sh", "bash", "dash", "ash", "zsh", "busybox", "toybox"}:
            fail(f"a shell in the image: {os.path.relpath(path, rootfs)}")
        with open(path, "rb") as f:
            if f.read(2) == b"#!":
                fail(f"a script in the image: {os.path.relpath(path, rootfs)}")
print(f"unpacked: {unpacked_bytes / 1e6:.1f} MB")
if unpacked_bytes > MAX_UNPACKED_MB * 1e6:
    fail(f"root filesystem is {unpacked_bytes / 1e6:.1f} MB, over {MAX_UNPACKED_MB} MB")
for binary in ("prescale", "prescale-server"):
    path = os.path.join(rootfs, "usr/local/bin", binary)
    if not os.access(path, os.X_OK):
        fail(f"/usr/local/bin/{binary} missing or not executable")
    elif os.stat(path).st_uid != 0 or os.stat(path).st_mode & 0o022:
        fail(f"/usr/local/bin/{binary} must be owned by root and not writable by others")
passwd = open(os.path.join(rootfs, "etc/passwd")).read()
if not re.search(r"(?m)^prescale:x:65532:65532:", passwd):
    fail("/etc/passwd lacks the prescale user 65532")
for data in ("usr/share/zoneinfo/America/New_York", "etc/ssl/certs/ca-certificates.crt"):
    if not os.path.exists(os.path.join(rootfs, data)):
        fail(f"/{data} missing (tzdata, CA certificates)")

# ---- run -------------------------------------------------------------------------
for mount in ("proc", "dev"):
    os.makedirs(os.path.join(rootfs, mount), exist_ok=True)


def chroot_command(args):
    # A private mount and pid namespace: /proc for the image's processes
    # (prescale finds prescale-server through /proc/self/exe), the host's
    # /dev, then chroot as the image's user.
    script = (f'mount -t proc proc "{rootfs}/proc" && mount --rbind /dev "{rootfs}/dev" && '
              f'exec chroot --userspec=65532:65532 "{rootfs}" "$@"')
    return ["unshare", "--mount", "--pid", "--fork", "sh", "-c", script, "chroot", *args]


podman_root = os.path.join(WORK, "podman")
archive = os.path.join(WORK, f"prescale-{tag}.oci.tar")
podman = run(["podman", "--root", f"{podman_root}/root", "--runroot", f"{podman_root}/run",
              "--storage-driver", "vfs", "run", "--rm", "--network", "none", f"oci-archive:{archive}",
              "--help"], timeout=300) if shutil.which("podman") else None
if podman is not None and podman.returncode == 0 and "Usage: prescale" in podman.stdout:
    runner = "podman"
    print("ran with: podman run (prescale --help)")
else:
    reason = (podman.stderr.strip().splitlines() or ["no output"])[-1] if podman is not None else "podman not installed"
    probe = run(chroot_command(["/usr/local/bin/prescale", "version"]))
    if probe.returncode != 0:
        print(f"skipped: podman cannot run here ({reason}) and chroot neither: {probe.stderr.strip()}")
        sys.exit(77)
    runner = "chroot"
    print(f"ran with: chroot as 65532:65532 (podman run failed here: {reason})")
if podman is not None:
    run(["podman", "--root", f"{podman_root}/root", "--runroot", f"{podman_root}/run",
         "--storage-driver", "vfs", "system", "reset", "--force"])
    shutil.rmtree(podman_root, ignore_errors=True)


def in_image(args, timeout=120):
    if runner == "podman":
        return run(["podman", "--root", f"{podman_root}/root", "--runroot", f"{podman_root}/run",
                    "--storage-driver", "vfs", "run", "--rm", "--network", "host",
                    "--entrypoint", args[0], f"oci-archive:{archive}", *args[1:]], timeout=timeout)
    return run(chroot_command(args), timeout=timeout)


help_run = in_image(["/usr/local/bin/prescale", "--help"])
if help_run.returncode != 0 or "Usage: prescale" not in help_run.stdout:
    fail(f"prescale --help in the image failed: {help_run.stderr.strip()[-500:]}")

# The image's own loader lists what each binary and libcurl load.
loader = "/lib64/ld-linux-x86-64.so.2"
listed = {}
for target in ("/usr/local/bin/prescale", "/usr/local/bin/prescale-server",
               "/usr/lib/x86_64-linux-gnu/libcurl.so.4"):
    result = in_image([loader, "--list", target])
    if result.returncode != 0 or "not found" in result.stdout:
        fail(f"ld.so --list {target} in the image: {result.stdout.strip()} {result.stderr.strip()}")
    elif target.endswith(".so.4"):
        listed[os.path.basename(target)] = target
    for line in result.stdout.splitlines():
        match = re.match(r"\s*(\S+) => (\S+)", line)
        if match:
            listed[match.group(1)] = match.group(2)
host = {}
for binary in ("prescale", "prescale-server"):
    for line in run(["ldd", os.path.join(BUILD, binary)]).stdout.splitlines():
        match = re.match(r"\s*(\S+) => (\S+)", line)
        if match:
            host[match.group(1)] = match.group(2)
if "libcurl.so.4" not in listed:
    fail("libcurl.so.4 (opened with dlopen by the daemon) is not in the image")
if not set(host) <= set(listed):
    fail(f"the image lacks libraries the binaries load: {sorted(set(host) - set(listed))}")
print(f"libraries: {len(listed)} resolved inside the image ({len(host)} for the binaries, "
      f"the rest for libcurl): {' '.join(sorted(listed))}")

# The demo from the image: it serves HTTPS on 127.0.0.1; read the forecast from outside.
demo_args = ["/usr/local/bin/prescale", "demo", "--duration", "20"]
if runner == "podman":
    demo = subprocess.Popen(["podman", "--root", f"{podman_root}/root", "--runroot", f"{podman_root}/run",
                             "--storage-driver", "vfs", "run", "--rm", "--network", "host",
                             f"oci-archive:{archive}", *demo_args[1:]],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
else:
    demo = subprocess.Popen(chroot_command(demo_args), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
lines = []
reader = threading.Thread(target=lambda: lines.extend(demo.stdout), daemon=True)
reader.start()
served = None
deadline = time.monotonic() + 60
while time.monotonic() < deadline and served is None and demo.poll() is None:
    time.sleep(0.5)
    curl_line = next((l for l in list(lines) if l.strip().startswith("curl --cacert")), None)
    if not curl_line:
        continue
    # Certificate paths are inside the image's root; curl runs outside it.
    args = curl_line.split()
    for i, arg in enumerate(args):
        if args[i - 1] in ("--cacert", "--cert", "--key"):
            args[i] = rootfs + arg
    if runner == "podman":
        args = args[:1]  # files are in the container; -k for the check below
    reply = run(["curl", "-sS", "--max-time", "5", *args[1:]])
    if reply.returncode == 0 and "ExternalMetricValueList" in reply.stdout:
        served = json.loads(reply.stdout)["items"][0]["value"]
try:
    demo.wait(timeout=120)
except subprocess.TimeoutExpired:
    demo.kill()
    fail("prescale demo --duration 20 did not stop")
reader.join(timeout=5)
status_lines = [l for l in lines if re.search(r"observed\s+[0-9.]+\s+forecast", l)]
if demo.returncode != 0:
    fail(f"prescale demo exited {demo.returncode}: {''.join(lines)[-1000:]}")
if len(status_lines) < 3:
    fail(f"prescale demo printed {len(status_lines)} status lines: {''.join(lines)[-1000:]}")
if served is None:
    fail("curl could not read the forecast the demo served from the image")
else:
    print(f"demo: {len(status_lines)} status lines; curl read the served forecast: {served}")

if failures:
    print(f"{len(failures)} image check(s) failed")
    sys.exit(1)
print(f"image: ran with {runner}; {compressed / 1e6:.1f} MB compressed in {len(layers)} layers, "
      f"{unpacked_bytes / 1e6:.1f} MB unpacked, user {image_config['User']}, {len(listed)} libraries")
