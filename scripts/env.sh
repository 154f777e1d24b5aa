# Environment for building ambient-host against the pinned libtorch.
# Source it: `. scripts/env.sh`. Set-up (scripts/setup.sh) installs what it points to.
AMBIENT_TORCH_VENV="${AMBIENT_TORCH_VENV:-/opt/ambient/torch-2.13.0}"
export AMBIENT_TORCH_VENV
export LIBTORCH_USE_PYTORCH=1
export PYTHON_SYS_EXECUTABLE="$AMBIENT_TORCH_VENV/bin/python"
case ":$PATH:" in
  *":$AMBIENT_TORCH_VENV/bin:"*) ;;
  *) export PATH="$AMBIENT_TORCH_VENV/bin:$PATH" ;;
esac
