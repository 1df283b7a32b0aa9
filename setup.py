"""Installs the `simulation` package and the `simulate` command."""

from setuptools import find_packages, setup

setup(
    name="dongguan-clusters",
    version="0.1.0",
    description="Agent-based model of Dongguan's industrial clusters under 东府〔2021〕10号",
    python_requires=">=3.12",
    packages=find_packages(include=["simulation", "simulation.*"]),
    package_data={"simulation": ["data/*.csv", "data/*.md", "reporting/*.toml"]},
    install_requires=[
        "mesa[network,viz]==3.5.1",  # viz: Solara and Altair for `simulate dashboard`
        # the dashboard serves every asset itself (no CDN, works offline): Solara's assets package
        # exists up to 1.58.2, and its page (Vue 2) needs ipyvue/ipyvuetify 1.x
        "solara==1.58.2",
        "solara-assets==1.58.2",
        "ipyvue>=1.9,<2",
        "ipyvuetify>=1.6.10,<2",
        "numpy>=2.0",
        "numba>=0.60",  # the compiled firm rules (simulation/model/fused_rules.py)
        "scipy>=1.13",
        "matplotlib>=3.9",
        "click>=8.1",
        "pydantic>=2.7",
        "tomlkit>=0.13",
        "pandas>=2.2",
        "pyarrow>=16",
        "rich>=13",
        "mplfonts>=0.0.11",  # ships Noto Sans CJK SC for the Chinese charts
        "SALib>=1.5",
        "dask[distributed]>=2024.8",
        "scoringrules>=0.11",  # CRPS of ensembles (weighted) and closed forms, for the backtest
        "pyabc>=0.13",  # ABC for data assimilation (simulate assimilate, simulate backtest)
        "ema-workbench>=3.0",  # PRIM and CART for `simulate discover` (scenario discovery)
        "pymoo>=0.6.1",  # NSGA-II/III for `simulate optimise` (ask-and-tell, seeded)
        "scikit-learn>=1.9",  # the cross-validated logistic regression of P(target | drawn values)
    ],
    extras_require={
        "test": [
            "pytest>=8", "pytest-xdist>=3.6", "hypothesis>=6.100", "psutil>=5.9",
            "playwright>=1.45",  # drives Debian's chromium for the dashboard test (no `playwright install`)
            "nbclient>=0.10", "nbformat>=5.9", "ipykernel>=6.29",  # executes examples/quickstart.ipynb
        ],
        "ema": ["ema-workbench>=3.0"],
        "slurm": ["dask-jobqueue>=0.9"],
    },
    entry_points={"console_scripts": ["simulate=simulation.cli:main"]},
)
