"""Launching `mpiexec -n N python ...` on this machine only, with a hard timeout."""
import os
import shutil
import signal
import subprocess
import sys


def find_mpiexec():
    """The mpiexec beside this Python (the mpich wheel puts it there), else PATH's."""
    here = os.path.join(os.path.dirname(sys.executable), "mpiexec")
    if os.path.exists(here):
        return here
    return shutil.which("mpiexec")


def launch_args(mpiexec):
    """Local-only launch flags for the MPI flavour of ``mpiexec``."""
    try:
        version = subprocess.run([mpiexec, "--version"], capture_output=True, text=True,
                                 timeout=30).stdout
    except (OSError, subprocess.TimeoutExpired):
        version = ""
    if "HYDRA" in version:                  # MPICH: start ranks by fork, never ssh
        return ["-launcher", "fork"], {}
    if "Open MPI" in version or "OpenRTE" in version:
        return ["--oversubscribe"], {"OMPI_ALLOW_RUN_AS_ROOT": "1",
                                     "OMPI_ALLOW_RUN_AS_ROOT_CONFIRM": "1",
                                     "OMPI_MCA_btl": "self,vader,tcp",
                                     "OMPI_MCA_btl_tcp_if_include": "lo"}
    return [], {}


def run(n, argv, timeout, cwd=None):
    """``mpiexec -n n python argv...``; returns the CompletedProcess. Past
    ``timeout`` seconds the launcher and its ranks (their own process group)
    are killed and subprocess.TimeoutExpired is raised."""
    mpiexec = find_mpiexec()
    flags, env_extra = launch_args(mpiexec)
    env = dict(os.environ, OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1", **env_extra)
    cmd = [mpiexec, *flags, "-n", str(n), sys.executable, *argv]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            cwd=cwd, env=env, start_new_session=True)
    try:
        out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.communicate()
        raise
    return subprocess.CompletedProcess(cmd, proc.returncode, out, err)
