# Sourced by ./dev and scripts/lock: sets torch_source=(...) to the uv arguments that make
# the resolver take the CPU build of torch when this machine has no GPU, and passes the
# site's settings (pip's wheel directory, the platform's CA store) on to uv.
# $1: a python with pip (to read pip's config).
torch_source=()
# A local wheel directory configured for pip (PIP_FIND_LINKS or pip's config) is where a site
# keeps its CPU torch; uv does not read pip's config, so pass it on.
_links="${PIP_FIND_LINKS:-$("$1" -m pip config get global.find-links 2>/dev/null || true)}"
for _d in $_links; do [ -d "$_d" ] && torch_source+=(--find-links "$_d"); done
if [ ${#torch_source[@]} -eq 0 ] && ! command -v nvidia-smi >/dev/null 2>&1 \
   && [ "$(uname -s)" = Linux ]; then
  # No GPU: the CPU build instead of the multi-GB CUDA one.
  torch_source=(--extra-index-url https://download.pytorch.org/whl/cpu --index-strategy unsafe-best-match)
fi
# uv trusts only its bundled CA roots by default; sites behind a TLS-inspecting proxy add
# their CA to the platform's store, which pip and curl use. Let uv use it too.
export UV_SYSTEM_CERTS="${UV_SYSTEM_CERTS:-1}"
