from glob import glob

from setuptools import find_packages, setup

PACKAGE_NAME = "dedelayed_bringup"

setup(
    name=PACKAGE_NAME,
    version="0.1.0",
    packages=find_packages(exclude=["test"]),
    data_files=[
        ("share/ament_index/resource_index/packages", [f"resource/{PACKAGE_NAME}"]),
        (f"share/{PACKAGE_NAME}", ["package.xml"]),
        (f"share/{PACKAGE_NAME}/launch", glob("launch/*.launch.py")),
        (f"share/{PACKAGE_NAME}/config", glob("config/*")),
    ],
    install_requires=["setuptools"],
    zip_safe=True,
    maintainer="Dedelayed maintainers",
    maintainer_email="maintainers@dedelayed.dev",
    description="Launch files, parameters, DDS profiles and link emulator for Dedelayed.",
    license="Apache-2.0",
    tests_require=["pytest"],
    entry_points={"console_scripts": [
        "link_emulator = dedelayed_bringup.link_emulation.emulator_node:main",
        "link_bridge = dedelayed_bringup.secure_link.bridge_node:main",
        "synthetic_camera = dedelayed_bringup.synthetic_camera_node:main",
        "recorder = dedelayed_bringup.recording.recorder_node:main",
    ]},
)
