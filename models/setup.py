"""dedelayed_models: installable with ``pip install -e models/`` and buildable by colcon (ament_python)."""

from setuptools import find_packages, setup

PACKAGE_NAME = "dedelayed_models"

setup(
    name=PACKAGE_NAME,
    version="0.1.0",
    packages=find_packages(exclude=["test", "test.*"]),
    package_data={PACKAGE_NAME: ["configs/*.yaml", "configs/base/*.yaml", "configs/camvid/*.yaml",
                                "checkpoints/*.pt", "checkpoints/*.json", "checkpoints/*.md", "checkpoints/*.png",
                                "checkpoints/camvid/*.pt", "checkpoints/camvid/*.json",
                                "checkpoints/camvid/*.md", "checkpoints/camvid/*.png",
                                "data/world/*.jpg"]},
    data_files=[
        ("share/ament_index/resource_index/packages", [f"resource/{PACKAGE_NAME}"]),
        (f"share/{PACKAGE_NAME}", ["package.xml"]),
    ],
    python_requires=">=3.10",
    # torch: take the build for your machine first (CPU: `pip install torch==2.13.0`).
    install_requires=["torch>=2.1", "numpy", "opencv-python-headless", "einops", "pyyaml", "tqdm"],
    extras_require={
        "export": ["onnx", "onnxruntime"],
        "train": ["pytorch-optimizer", "matplotlib"],
        "test": ["pytest", "pytest-timeout", "onnx", "onnxruntime"],
    },
    zip_safe=False,
    maintainer="Dedelayed maintainers",
    maintainer_email="maintainers@dedelayed.dev",
    description="Dedelayed networks, synthetic driving world, data, training, evaluation, export.",
    license="Apache-2.0",
    tests_require=["pytest"],
    entry_points={"console_scripts": [
        "dedelayed-export = dedelayed_models.export.onnx_export:main",
        "dedelayed-models-bench = dedelayed_models.bench.models_bench:main",
        "dedelayed-world-view = dedelayed_models.data.world.view:main",
        "dedelayed-world-bench = dedelayed_models.bench.world_bench:main",
        "dedelayed-train = dedelayed_models.train.__main__:main",
        "dedelayed-train-pipeline = dedelayed_models.train.pipeline:main",
        "dedelayed-eval = dedelayed_models.evaluate:main",
    ]},
)
