"""The course style is seaborn's whitegrid/colorblind theme written out (so that it costs no
seaborn import): checked against seaborn itself, so the copy cannot drift from it."""

import subprocess
import sys
import textwrap

SCRIPT = textwrap.dedent(
    """
    import matplotlib as mpl
    from matplotlib.colors import to_rgb
    import seaborn as sns
    from hierlib import plots

    def snapshot():
        rc = {k: v for k, v in mpl.rcParams.items() if k != "axes.prop_cycle"}
        rc["cycle"] = [to_rgb(c) for c in mpl.rcParams["axes.prop_cycle"].by_key()["color"]]
        rc["codes"] = {c: to_rgb(c) for c in "bgrmyck"}
        return rc

    codes = dict(mpl.colors.colorConverter.colors)
    mpl.rcdefaults()
    defaults = snapshot()
    sns.set_theme(style="whitegrid", palette="colorblind")
    theirs = snapshot()
    mpl.rcdefaults()
    mpl.colors.colorConverter.colors.clear()
    mpl.colors.colorConverter.colors.update(codes)
    plots.use_course_style()
    ours = snapshot()
    # image.cmap: seaborn's "rocket" exists only once seaborn is imported; every course
    # figure with a colour map names its own (plots.WHITEGRID_RC says so)
    changed = {k for k in theirs if theirs[k] != defaults[k]} - set(plots.COURSE_RC)
    changed -= {"image.cmap"}
    assert len(changed) > 20, sorted(changed)  # the theme really changed something
    wrong = {k: (ours[k], theirs[k]) for k in changed if ours[k] != theirs[k]}
    assert not wrong, wrong
    print("ok", len(changed))
    """
)


def test_course_style_is_seaborns_whitegrid_colorblind_theme():
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT], capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("ok")
