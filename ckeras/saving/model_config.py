"""Model configs and compile configs: ckeras objects <-> Keras JSON.

Reading accepts both dialects (Keras 3 and tf.keras 2, docs/spec/hdf5_format.md §4
and §7); writing emits what Keras 3 writes: the legacy form for ``.h5``
(``{"class_name", "config"}`` entries) and the full form for ``.keras``
(``module`` / ``registered_name`` / ``build_config`` / ``compile_config``).
Nothing here executes code from a file: Lambda layers and serialized Python
functions are refused.
"""
import json

from ckeras import registry

KERAS_VERSION = "3.15.1"   # Keras-3-like, so readers take our files as Keras 3
BACKEND = "tensorflow"     # what Keras 3 files most often say; informational only

_MODEL_CLASSES = ("Sequential", "Functional", "Model")

# Loss aliases Keras 3.15.1 cannot deserialize from a training config (spec §5.1).
_LONG_LOSS_NAMES = {
    "mse": "mean_squared_error", "MSE": "mean_squared_error",
    "mae": "mean_absolute_error", "MAE": "mean_absolute_error",
    "mape": "mean_absolute_percentage_error", "MAPE": "mean_absolute_percentage_error",
    "msle": "mean_squared_logarithmic_error", "MSLE": "mean_squared_logarithmic_error",
    "kld": "kl_divergence", "KLD": "kl_divergence",
    "kullback_leibler_divergence": "kl_divergence",
    "bce": "binary_crossentropy", "BCE": "binary_crossentropy",
    "logcosh": "log_cosh", "huber_loss": "huber",
}

_SHAPE_RESOLVED_METRICS = ("accuracy", "acc", "crossentropy", "ce")


class SafetyError(ValueError):
    """The file asks for something ckeras refuses to do when loading."""


# ---- reading: sanitise a parsed config ----------------------------------------------

def parse_json(text, what, filepath):
    from ckeras.saving.safety import UnsafeFileError, check_config, MAX_CONFIG_DEPTH
    try:
        value = json.loads(text)
    except RecursionError:
        raise UnsafeFileError(f"{filepath!r}: {what} is nested more than "
                              f"{MAX_CONFIG_DEPTH} levels deep: refusing to load it.") from None
    except (TypeError, ValueError) as e:
        raise ValueError(f"{filepath!r}: {what} is not valid JSON ({e}).") from None
    check_config(value, what, filepath)
    return value


def check_safe(obj, custom_objects=None, where="model"):
    """Refuse configs that would need Python code from the file to run."""
    if isinstance(obj, dict):
        cls = obj.get("class_name")
        if cls == "__lambda__":
            raise SafetyError(
                f"The {where} config contains a serialized Python lambda. ckeras "
                "never executes code stored in a file; define the function in "
                "your code and pass it via custom_objects.")
        if cls == "Lambda" and isinstance(obj.get("config"), dict):
            cfg = obj["config"]
            fn = cfg.get("function")
            named = isinstance(fn, str) or (isinstance(fn, dict)
                                            and fn.get("class_name") == "function")
            if cfg.get("function_type") == "lambda" or not named:
                raise SafetyError(
                    f"Layer {cfg.get('name', 'lambda')!r} is a Lambda layer whose function "
                    "is stored in the file as Python bytecode, and ckeras never executes "
                    "code from a file. Rebuild the model in code (a Lambda over a named "
                    "function can be loaded with custom_objects={name: function}) and "
                    "load only the weights with model.load_weights().")
        for value in obj.values():
            check_safe(value, custom_objects, where)
    elif isinstance(obj, list):
        for value in obj:
            check_safe(value, custom_objects, where)


def clean(obj):
    """Drop Keras bookkeeping keys and split "Package>Name" class names so
    custom_objects can match the bare name."""
    if isinstance(obj, list):
        return [clean(v) for v in obj]
    if not isinstance(obj, dict):
        return obj
    out = {k: clean(v) for k, v in obj.items() if k != "shared_object_id"}
    name = out.get("class_name")
    if isinstance(name, str) and ">" in name and "config" in out:
        out["registered_name"] = out.get("registered_name") or name
        out["class_name"] = name.split(">", 1)[1]
    return out


_LAYER_MODULES_IMPORTED = False


def import_layer_modules():
    """Import every ckeras.layers module so each layer class is registered
    for deserialisation, whatever ckeras.layers itself imports."""
    global _LAYER_MODULES_IMPORTED
    if _LAYER_MODULES_IMPORTED:
        return
    import importlib
    import pkgutil
    import ckeras.layers as pkg
    for info in pkgutil.iter_modules(pkg.__path__):
        try:
            importlib.import_module(f"ckeras.layers.{info.name}")
        except Exception:  # a broken module must not block loading other models
            continue
    # Sequential and Functional are registered too: ckeras/__init__ imports
    # models/ before anything can be loaded (and saving/ never imports models/).
    _LAYER_MODULES_IMPORTED = True


def model_from_config(config, custom_objects=None, filepath=None):
    """Build a model from ``{"class_name", "config", ...}`` (either dialect)."""
    from ckeras.layers.layer import deserialize_layer
    import_layer_modules()
    where = f"{filepath!r}: " if filepath else ""
    if not isinstance(config, dict) or "class_name" not in config:
        raise ValueError(f"{where}the model config must be a JSON object with "
                         f"'class_name' and 'config', got {str(config)[:120]!r}.")
    check_safe(config, custom_objects)
    config = clean(config)
    name = config["class_name"]
    if name == "Model":
        config = dict(config, class_name="Functional")
    build_shape = (config.get("build_config") or {}).get("input_shape")
    config = {k: v for k, v in config.items() if k in ("class_name", "config", "registered_name")}
    with registry.custom_object_scope(custom_objects or {}):
        try:
            model = deserialize_layer(config, custom_objects=custom_objects)
        except SafetyError:
            raise
        except RecursionError:
            raise SafetyError(f"{where}the model config nests layers too deeply to "
                              "rebuild.") from None
        except (AttributeError, IndexError) as e:
            # A config entry of the wrong JSON type (a list where an object
            # belongs, ...): the file's config is malformed.
            raise ValueError(f"{where}cannot rebuild the model: the config is malformed "
                             f"({type(e).__name__}: {e}).") from e
        except (ValueError, TypeError) as e:
            raise type(e)(f"{where}cannot rebuild the model: {e}") from e
        except KeyError as e:     # a key the config lacks: the config is incomplete
            raise ValueError(f"{where}cannot rebuild the model: the config lacks "
                             f"{e}.") from e
        if not model.built and build_shape is not None and not _is_graph(model):
            model.build(_shape_tuple(build_shape))   # a subclassed model: create its weights
        return model


def _is_graph(model):
    from ckeras.layers.layer import is_graph_model
    return is_graph_model(type(model))


def _shape_tuple(shape):
    if isinstance(shape, list) and shape and isinstance(shape[0], (list, tuple)):
        return [_shape_tuple(s) for s in shape]
    if isinstance(shape, dict):
        return {k: _shape_tuple(v) for k, v in shape.items()}
    return tuple(shape)


# ---- writing -----------------------------------------------------------------------

def _model_class_name(model):
    from ckeras.layers.layer import BUILTIN_LAYERS
    registered = registry.registered_name(model)
    if registered:
        return registered
    if isinstance(model, BUILTIN_LAYERS["Sequential"]):   # saving/ never imports models/
        return "Sequential"
    if type(model).__name__ in ("Model", "Functional"):
        return "Functional"
    return type(model).__name__


def _is_model(layer):
    return getattr(layer, "_is_model", False)


def legacy_model_config(model):
    """``{"class_name", "config"}`` as Keras writes into ``.h5`` files."""
    return {"class_name": _model_class_name(model),
            "config": _legacy_layers(model, model.get_config())}


def _legacy_layers(model, config):
    config = dict(config)
    if isinstance(config.get("layers"), list):
        config["layers"] = [_legacy_entry(model, e) for e in config["layers"]]
    return config


def _legacy_entry(model, entry):
    out = {"class_name": entry.get("registered_name") or entry["class_name"],
           "config": entry.get("config", {})}
    if isinstance(out["config"], dict) and "layers" in out["config"]:
        sub = _find_layer(model, entry)
        if sub is not None and _is_model(sub):
            out["config"] = _legacy_layers(sub, out["config"])
    for key in ("name", "inbound_nodes"):
        if key in entry:
            out[key] = entry[key]
    return out


def _find_layer(model, entry):
    name = entry.get("name") or (entry.get("config") or {}).get("name")
    for layer in getattr(model, "layers", []):
        if layer.name == name:
            return layer
    return None


def shape_json(shape):
    if isinstance(shape, (list, tuple)):
        return [shape_json(s) for s in shape]
    return None if shape is None else int(shape)


def full_model_config(model, compile_config=None):
    """Keras 3's ``serialize_keras_object(model)``: what ``config.json`` holds."""
    class_name = _model_class_name(model)
    registered = registry.registered_name(model)
    if class_name == "Sequential":
        module, registered = "keras", None
    elif class_name == "Functional":
        module, registered = "keras.src.models.functional", "Functional"
    else:
        module = None if registered else type(model).__module__
    config = _full_layers(model, model.get_config())
    out = {"module": module, "class_name": class_name.split(">")[-1] if registered else class_name,
           "config": config, "registered_name": registered}
    if class_name == "Sequential" or not _is_graph(model):  # (a subclassed model too)
        shape = getattr(model, "_build_input_shape", None) if model.built else None
        out["build_config"] = {"input_shape": shape_json(shape)}
    else:
        out["build_config"] = {"input_shape": None}
    if compile_config is not None:
        out["compile_config"] = compile_config
    return out


def _full_layers(model, config):
    config = dict(config)
    if not isinstance(config.get("layers"), list):
        return config
    entries = []
    sequential_layers = None
    if not any("name" in e for e in config["layers"]):
        # Sequential entries carry no name: pair them with model.layers in order.
        sequential_layers = list(model.layers)
        if config["layers"] and config["layers"][0].get("class_name") == "InputLayer":
            sequential_layers = [None] + sequential_layers
    for i, entry in enumerate(config["layers"]):
        layer = (sequential_layers[i] if sequential_layers is not None and i < len(sequential_layers)
                 else _find_layer(model, entry))
        entries.append(_full_entry(layer, entry))
    config["layers"] = entries
    return config


def _full_entry(layer, entry):
    registered = entry.get("registered_name")
    module = entry.get("module", None if registered else "keras.layers")
    if entry["class_name"] == "Functional":
        module, registered = "keras.src.models.functional", "Functional"
    elif entry["class_name"] == "Sequential" and not registered:
        module = "keras"
    out = {"module": module,
           "class_name": entry["class_name"],
           "config": entry.get("config", {}),
           "registered_name": registered}
    if layer is not None and _is_model(layer):
        out["config"] = _full_layers(layer, out["config"])
    shape = getattr(layer, "_build_input_shape", None) if layer is not None else None
    if layer is not None and layer.built and shape is not None and entry["class_name"] != "InputLayer":
        out["build_config"] = {"input_shape": shape_json(shape)}
    for key in ("name", "inbound_nodes"):
        if key in entry:
            out[key] = entry[key]
    return out


# ---- compile configs ---------------------------------------------------------------

def _legacy_object(obj):
    return {"class_name": registry.registered_name(obj) or type(obj).__name__,
            "config": obj.get_config()}


def _loss_entry(loss, full):
    from ckeras import losses
    if loss is None:
        return None
    if isinstance(loss, str):
        return _LONG_LOSS_NAMES.get(loss, loss)
    if isinstance(loss, (list, tuple)):
        return [_loss_entry(l, full) for l in loss]
    if isinstance(loss, dict):
        return {k: _loss_entry(v, full) for k, v in loss.items()}
    if isinstance(loss, losses.Loss):
        return losses.serialize(loss) if full else _legacy_object(loss)
    if isinstance(loss, type):
        return _loss_entry(loss(), full)
    name = getattr(loss, "__name__", None)
    if name is None:
        raise ValueError(f"Cannot serialize loss {loss!r}.")
    return _LONG_LOSS_NAMES.get(name, name)


def _metric_entry(metric, full):
    from ckeras import metrics
    if metric is None or isinstance(metric, str):
        return metric
    if isinstance(metric, (list, tuple)):
        return [_metric_entry(m, full) for m in metric]
    if isinstance(metric, dict):
        return {k: _metric_entry(v, full) for k, v in metric.items()}
    if isinstance(metric, metrics.Metric):
        return metrics.serialize(metric) if full else _legacy_object(metric)
    if isinstance(metric, type):
        return _metric_entry(metric(), full)
    name = getattr(metric, "__name__", None)
    if name is None:
        raise ValueError(f"Cannot serialize metric {metric!r}.")
    return name


def _compile_args(model):
    cfg = getattr(model, "_compile_config", None) or {}
    return cfg


def training_config(model):
    """The root ``training_config`` attribute of a Keras ``.h5`` file."""
    cfg = _compile_args(model)
    opt = model.optimizer
    return {
        "loss": _loss_entry(cfg.get("loss"), False),
        "loss_weights": cfg.get("loss_weights"),
        "metrics": _metric_entry(cfg.get("metrics"), False),
        "weighted_metrics": _metric_entry(cfg.get("weighted_metrics"), False),
        "run_eagerly": False, "steps_per_execution": 1, "jit_compile": False,
        "optimizer_config": {"class_name": registry.registered_name(opt) or type(opt).__name__,
                             "config": opt.get_config()},
    }


def compile_config(model):
    """Keras 3's ``model.get_compile_config()`` (``.keras`` archives)."""
    from ckeras import optimizers
    cfg = _compile_args(model)
    return {
        "optimizer": optimizers.serialize(model.optimizer),
        "loss": _loss_entry(cfg.get("loss"), True),
        "loss_weights": cfg.get("loss_weights"),
        "metrics": _metric_entry(cfg.get("metrics"), True),
        "weighted_metrics": _metric_entry(cfg.get("weighted_metrics"), True),
        "run_eagerly": False, "steps_per_execution": 1, "jit_compile": False,
    }


# ---- compile from a saved config --------------------------------------------------------

def _read_metric(entry, custom_objects):
    """Metric objects now (custom_objects are only in scope while loading);
    "accuracy"-like names stay strings, resolved later from the data shapes."""
    from ckeras import metrics
    if entry is None:
        return None
    if isinstance(entry, list):
        return [_read_metric(e, custom_objects) for e in entry]
    if isinstance(entry, dict) and "class_name" not in entry:
        return {k: _read_metric(v, custom_objects) for k, v in entry.items()}
    if isinstance(entry, dict) and entry.get("class_name") == "MeanMetricWrapper":
        # tf.keras 2 wraps string metrics; the name is what the user passed.
        cfg = entry.get("config") or {}
        name = cfg.get("name")
        if isinstance(name, str) and name.lower() in _SHAPE_RESOLVED_METRICS:
            return name
    if isinstance(entry, str):
        if entry.lower() in _SHAPE_RESOLVED_METRICS:
            return entry
        found = registry.lookup_custom(entry, None, custom_objects)
        if found is not None:
            return found       # a function or class: compile() makes one per output
        metrics.get(entry)     # a built-in name (else: a clear error now)
        return entry
    return metrics.get(entry, custom_objects=custom_objects)


def _read_loss(entry, custom_objects):
    from ckeras import losses
    if isinstance(entry, list):
        return [_read_loss(e, custom_objects) for e in entry]
    if isinstance(entry, dict) and "class_name" not in entry:
        return {k: _read_loss(v, custom_objects) for k, v in entry.items()}
    if isinstance(entry, dict):       # a serialized loss object
        return losses.get(entry, custom_objects=custom_objects)
    return entry


def _per_output_metrics(metrics, n_outputs):
    # tf.keras 2 writes [[...]] even for one output.
    if (n_outputs == 1 and isinstance(metrics, list) and len(metrics) == 1
            and isinstance(metrics[0], list)):
        return metrics[0]
    return metrics


def compile_from_config(model, config, custom_objects=None, filepath=None):
    """compile() ``model`` from a training_config (h5) or compile_config (.keras)."""
    from ckeras import optimizers
    if not isinstance(config, dict):
        where = f"{filepath!r}: " if filepath else ""
        raise ValueError(f"{where}the saved training config must be a JSON object, got "
                         f"{str(config)[:60]!r}. Load with compile=False to skip it.")
    check_safe(config, custom_objects, where="training")
    config = clean(config)
    opt_cfg = config.get("optimizer_config", config.get("optimizer"))
    with registry.custom_object_scope(custom_objects or {}):
        try:
            optimizer = optimizers.deserialize(opt_cfg, custom_objects=custom_objects) \
                if opt_cfg is not None else "rmsprop"
            n_out = len(model.output_names)
            model.compile(
                optimizer=optimizer,
                loss=_read_loss(config.get("loss"), custom_objects),
                loss_weights=config.get("loss_weights"),
                metrics=_per_output_metrics(
                    _read_metric(config.get("metrics"), custom_objects), n_out),
                weighted_metrics=_per_output_metrics(
                    _read_metric(config.get("weighted_metrics"), custom_objects), n_out))
        except (ValueError, TypeError, KeyError, AttributeError, IndexError) as e:
            where = f"{filepath!r}: " if filepath else ""
            cls = type(e) if isinstance(e, (ValueError, TypeError)) else ValueError
            raise cls(f"{where}cannot compile the model from the saved training "
                      f"config: {e}. Load with compile=False to skip it.") from e
    return model
