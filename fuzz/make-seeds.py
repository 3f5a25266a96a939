"""Write the fuzz targets' seed inputs into fuzz/seeds/<target>/: small valid files of every
format (the shapes the tests use), so fuzzing starts from inputs that reach deep into each
parser. Needs numpy, scipy, pillow and lmdb (pip); the seeds are committed, so CI does not.
The safetensors seeds are a checkpoint and state dicts that `dcgan` itself writes: run
`bash scripts/fuzz.sh` once after building, or give DCGAN=path/to/dcgan."""
import io, json, os, pickle, struct, subprocess, sys, tempfile, zipfile
import numpy as np
import scipy.io
from PIL import Image
import lmdb

root = os.path.join(os.path.dirname(os.path.abspath(__file__)), "seeds")

def put(target, name, data):
    d = os.path.join(root, target)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)

def idx(arr):
    arr = np.asarray(arr, dtype=np.uint8)
    return bytes([0, 0, 8, arr.ndim]) + b"".join(struct.pack(">I", n) for n in arr.shape) + arr.tobytes()

rng = np.random.default_rng(0)
images = rng.integers(0, 256, (4, 5, 6))
put("idx", "images", b"\x00" + idx(images))
im, lb = idx(images), idx(rng.integers(0, 10, (4,)))
pad = b"\x00" * (len(im) - len(lb))  # the target splits the rest in two halves
put("idx", "images-and-labels", b"\x01" + im + lb + pad)

records = b"".join(bytes([k]) + rng.integers(0, 256, 3072, dtype=np.uint8).tobytes() for k in range(3))
put("cifar", "three-records", records)

for compress in (False, True):
    buf = io.BytesIO()
    scipy.io.savemat(buf, {"X": rng.integers(0, 256, (32, 32, 3, 3), dtype=np.uint8),
                           "y": np.array([[1], [10], [3]], dtype=np.uint8)},
                     do_compression=compress)
    put("svhn_mat", f"svhn-{'z' if compress else 'plain'}.mat", buf.getvalue())

with tempfile.TemporaryDirectory() as d:
    env = lmdb.open(d, map_size=1 << 20)
    with env.begin(write=True) as txn:
        for k in range(3):
            b = io.BytesIO()
            Image.fromarray(rng.integers(0, 256, (6, 5, 3), dtype=np.uint8)).save(b, format="PNG")
            txn.put(f"key{k}".encode(), b.getvalue())
    env.close()
    put("lmdb", "data.mdb", open(os.path.join(d, "data.mdb"), "rb").read())

for name, arr in [("latents", rng.standard_normal((3, 16), dtype=np.float32)),
                  ("latents4d", rng.standard_normal((2, 16, 1, 1))),
                  ("ints", np.arange(6, dtype=np.int64).reshape(2, 3))]:
    b = io.BytesIO(); np.save(b, arr); put("npy", name + ".npy", b.getvalue())

b = io.BytesIO()
np.savez(b, mu=rng.standard_normal(4), sigma=np.eye(4), n=np.array([10]))
put("npz_stats", "stats.npz", b.getvalue())
b = io.BytesIO()
np.savez_compressed(b, mu=rng.standard_normal(3).astype(np.float32), sigma=np.eye(3, dtype=np.float32))
put("npz_stats", "stats-compressed.npz", b.getvalue())

for fmt in ("PNG", "JPEG", "BMP", "PPM", "GIF", "WEBP"):
    for mode in ("RGB", "L"):
        b = io.BytesIO()
        Image.fromarray(rng.integers(0, 256, (7, 9, 3), dtype=np.uint8)).convert(mode).save(b, format=fmt)
        put("image", f"{mode}.{fmt.lower()}", b.getvalue())

put("boxes_json", "boxes.json", json.dumps([{"sample": 3, "box": [1, 2, 30, 40]}, {"sample": 0, "box": [0, 0, 64, 64]}]).encode())
put("dedup_report", "report.json", json.dumps({
    "source": "images", "images": 8, "code_bits": 128, "reconstruction_mse": 0.1,
    "groups": [{"items": [1, 5], "names": ["1.png", "5.png"]}], "excluded": [5]}).encode())

# A TorchScript-like archive: <root>/data.pkl (protocol 2, persistent ids for the storages, as
# torch.jit.save writes them), <root>/code/__torch__/m.py and <root>/data/<key>.
class FloatStorage: pass
FloatStorage.__module__, FloatStorage.__qualname__ = "torch", "FloatStorage"
def _rebuild_tensor_v2(*a): pass
_rebuild_tensor_v2.__module__ = "torch._utils"
class Storage:
    def __init__(self, key, n): self.key, self.n = key, n
class P(pickle.Pickler):
    def persistent_id(self, obj):
        if isinstance(obj, Storage):
            return ("storage", FloatStorage, obj.key, "cpu", obj.n)
        return None
class T:
    def __init__(self, key, shape):
        self.key, self.shape = key, shape
    def __reduce__(self):
        n = int(np.prod(self.shape))
        stride = tuple(int(np.prod(self.shape[i + 1:])) for i in range(len(self.shape)))
        return (_rebuild_tensor_v2, (Storage(self.key, n), 0, self.shape, stride, False, None))
import types, collections
sys.modules.setdefault("torch", types.ModuleType("torch")).FloatStorage = FloatStorage
utils = types.ModuleType("torch._utils"); utils._rebuild_tensor_v2 = _rebuild_tensor_v2
sys.modules["torch._utils"] = utils
state = collections.OrderedDict([("conv.weight", T("0", (2, 1, 3, 3))), ("conv.bias", T("1", (2,)))])
pkl = io.BytesIO(); P(pkl, protocol=2).dump(state)
z = io.BytesIO()
with zipfile.ZipFile(z, "w") as f:
    f.writestr("m/data.pkl", pkl.getvalue())
    f.writestr("m/code/__torch__/m.py", "class M: pass\n")
    f.writestr("m/data/0", np.arange(18, dtype="<f4").tobytes())
    f.writestr("m/data/1", np.ones(2, dtype="<f4").tobytes())
put("torchscript", "tiny.pt", z.getvalue())

# config.json and checkpoints from the tool itself.
dcgan = os.environ.get("DCGAN", os.path.join(os.path.dirname(root), "..", "target", "release", "dcgan"))
with tempfile.TemporaryDirectory() as d:
    imgs = os.path.join(d, "images"); os.makedirs(imgs)
    for k in range(8):
        Image.fromarray(rng.integers(0, 256, (16, 16, 3), dtype=np.uint8)).save(os.path.join(imgs, f"{k}.png"))
    run = os.path.join(d, "run")
    subprocess.run([dcgan, "train", "--data", imgs, "--out", run, "--image-size", "16", "--generator-width", "2",
                    "--discriminator-width", "2", "--latent-dim", "4", "--batch-size", "4", "--max-steps", "1"],
                   check=True, capture_output=True)
    put("config_json", "config.json", open(os.path.join(run, "config.json"), "rb").read())
    ck = os.path.join(run, "checkpoints", sorted(os.listdir(os.path.join(run, "checkpoints")))[-1])
    put("safetensors", "checkpoint.safetensors", open(ck, "rb").read())
    subprocess.run([dcgan, "export-torch", "--checkpoint", run, "--out", os.path.join(d, "torch")], check=True, capture_output=True)
    for n in ("netG", "netD"):
        put("safetensors", f"{n}.safetensors", open(os.path.join(d, "torch", f"{n}.safetensors"), "rb").read())

# An LMDB deep enough for branch pages, with values both inside leaf pages and on overflow
# pages (every tenth image is large), in LSUN's key style. Its own generator, so the seeds
# above stay as they were.
tree_rng = np.random.default_rng(1)
with tempfile.TemporaryDirectory() as d:
    env = lmdb.open(d, map_size=1 << 20)
    with env.begin(write=True) as txn:
        for k in range(120):
            side = 40 if k % 10 == 0 else 5
            b = io.BytesIO()
            Image.fromarray(tree_rng.integers(0, 256, (side, side, 3), dtype=np.uint8)).save(b, format="PNG")
            txn.put(f"{k * 0x9E3779B97F4A7C15 % (1 << 160):040x}".encode(), b.getvalue())
        assert txn.stat()["depth"] >= 2 and txn.stat()["overflow_pages"] > 0, txn.stat()
    env.close()
    put("lmdb", "tree.mdb", open(os.path.join(d, "data.mdb"), "rb").read())
# Request targets for `dcgan serve` (a second line is the Host header): the routes, and escapes.
for name, target in [
    ("root", "/"), ("runs", "/api/runs"), ("log", "/api/runs/run/log?from=0&id="),
    ("samples", "/api/runs/run/samples"), ("grid", "/runs/run/samples/step-00000001.png"),
    ("dotdot", "/runs/run/../outside.txt"), ("encoded", "/runs/run/%2e%2e%2foutside.txt"),
    ("link", "/runs/run/link.txt"), ("up", "/runs/run/up/outside.txt"),
    ("explore", "/explore/run/model.json"), ("host", "/runs/run/log.jsonl\nlocalhost:1"),
]:
    put("serve_request", f"{name}.txt", target.encode())
print("seeds written to", root)
