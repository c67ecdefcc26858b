from glob import glob

from setuptools import find_packages, setup

PACKAGE_NAME = "dedelayed_local"

setup(
    name=PACKAGE_NAME,
    version="0.1.0",
    packages=find_packages(exclude=["test"]),
    data_files=[
        ("share/ament_index/resource_index/packages", [f"resource/{PACKAGE_NAME}"]),
        (f"share/{PACKAGE_NAME}", ["package.xml"]),
        (f"share/{PACKAGE_NAME}/config", glob("config/*.yaml")),
    ],
    install_requires=["setuptools"],
    zip_safe=True,
    maintainer="Dedelayed maintainers",
    maintainer_email="maintainers@dedelayed.dev",
    description="Robot-side Dedelayed nodes: local segmenter, fusion, uplink, delay report.",
    license="Apache-2.0",
    tests_require=["pytest"],
    entry_points={"console_scripts": [
        "robot = dedelayed_local.robot_main:main",
        "uplink_node = dedelayed_local.uplink_main:main",
    ]},
)
