"""The School data: exam scores of London pupils, one regression task per school."""

from importlib import resources

import numpy as np
from sklearn.utils import Bunch
from sklearn.utils._param_validation import validate_params

N_SCHOOLS = 139
_DATA_FILE = "school.npz"

# Column order of ``school_b.mat`` (Argyriou et al.'s encoding), each name
# checked against the raw ILEA records (see data/README.md): the one-hot
# blocks follow the original codes, except gender, whose block is (female,
# male) although the original codes are male=0, female=1.
FEATURE_NAMES = [
    "year_1985",
    "year_1986",
    "year_1987",
    "fsm_percent",
    "vr1_percent",
    "gender_female",
    "gender_male",
    "vr_band_3",
    "vr_band_1",
    "vr_band_2",
    "ethnic_eswi",
    "ethnic_african",
    "ethnic_arab",
    "ethnic_bangladeshi",
    "ethnic_caribbean",
    "ethnic_greek",
    "ethnic_indian",
    "ethnic_pakistani",
    "ethnic_se_asian",
    "ethnic_turkish",
    "ethnic_other",
    "school_gender_mixed",
    "school_gender_boys",
    "school_gender_girls",
    "school_denomination_maintained",
    "school_denomination_church_of_england",
    "school_denomination_roman_catholic",
]

TARGET_NAMES = [f"school_{k}" for k in range(N_SCHOOLS)]

DESCR = """\
.. _school_dataset:

School dataset
--------------

Exam records of pupils of the Inner London Education Authority (ILEA) in
1985, 1986 and 1987 (Goldstein, 1991), in the encoding and with the 10
train/test splits of Argyriou, Evgeniou & Pontil (2008), a standard benchmark
of multi-task regression: each school is a task, its pupils' exam scores the
targets.

**Data Set Characteristics:**

:Number of Instances: 15362 pupils in 139 schools (22 to 251 pupils each)
:Number of Attributes: 27 (25 binary indicators, 2 school percentages)
:Targets: 139 tasks, one per school; each pupil's exam score (an integer
    from 1 to 70) is observed in the column of its school only, NaN
    elsewhere
:Splits: 10 random train/test splits; in each, ``floor(0.75 * n)`` of a
    school's ``n`` pupils train and the others test (11472 train and 3890
    test pupils in all)

:Attribute Information:
    - year_1985, year_1986, year_1987: year of the exam (one-hot)
    - fsm_percent: percentage of the school's pupils eligible for free
      school meals (that year; 8 to 91)
    - vr1_percent: percentage of the school's pupils in verbal-reasoning
      band 1 (that year; 3 to 43)
    - gender_female, gender_male: the pupil's gender (one-hot)
    - vr_band_3, vr_band_1, vr_band_2: the pupil's verbal-reasoning band at
      intake: VR1 the top 25 %, VR2 the middle 50 %, VR3 the bottom 25 %
      (one-hot, in the order of the original codes VR3=1, VR1=2, VR2=3)
    - ethnic_eswi, ethnic_african, ethnic_arab, ethnic_bangladeshi,
      ethnic_caribbean, ethnic_greek, ethnic_indian, ethnic_pakistani,
      ethnic_se_asian, ethnic_turkish, ethnic_other: the pupil's ethnic
      group (one-hot; ESWI: born in England, Scotland, Wales or Ireland)
    - school_gender_mixed, school_gender_boys, school_gender_girls: mixed or
      single-sex school (one-hot)
    - school_denomination_maintained, school_denomination_church_of_england,
      school_denomination_roman_catholic: the school's denomination (one-hot)

Rows are grouped by school, and by year within a school: row ``i`` belongs
to school ``school[i]``. The two percentages are school-by-year values,
constant over the pupils of one school and one year.

Quirks of the data, kept as they are: 15 pupils (in two schools, 1986 and
1987) have no verbal-reasoning band (all three indicators are 0), and one
girl is recorded in a boys' school. The gender block is ordered (female,
male), the reverse of the original coding male=0, female=1: the names
follow the raw ILEA records (the pupils of girls' schools are all in the
first column, those of boys' schools all but one in the second), not the
column order of the coding. The other blocks follow the original codes.

The splits are ``(train, test)`` pairs of 0-based row indices, exactly the
``tr`` and ``tst`` arrays of ``school_{1..10}_indexes.mat``, in their order
(grouped by school, random within a school). Results in the literature
report the explained variance ``1 - MSE / Var(y)`` on the pooled test pupils
of a split (the test exam scores of all schools together), averaged over
the 10 splits.

**References**

- H. Goldstein (1991). Multilevel modelling of survey data. *The
  Statistician*, 40(2), 235-244. The data: a random 50 % sample of the
  ILEA exam records, distributed by the Centre for Multilevel Modelling,
  University of Bristol.
- A. Argyriou, T. Evgeniou and M. Pontil (2008). Convex multi-task feature
  learning. *Machine Learning*, 73(3), 243-272. The binary encoding, the
  139 tasks and the 10 splits (``school_b.mat`` and
  ``school_{1..10}_indexes.mat`` of their code distribution).
"""


def _load_arrays():
    """The arrays of the packaged ``school.npz`` (all small unsigned ints)."""
    path = resources.files(__package__).joinpath("data").joinpath(_DATA_FILE)
    with path.open("rb") as f, np.load(f) as npz:
        return {name: npz[name] for name in npz.files}


def _decode_splits(school, positions, train_counts):
    """Rebuild the 0-based ``(train, test)`` row indices of every split.

    The file stores, per split, each listed row's rank within its school
    (train rows first, then test rows, each block grouped by school in the
    literature's order) and each school's number of training rows: ranks fit
    in one byte where row indices would need two.
    """
    sizes = np.bincount(school, minlength=N_SCHOOLS)
    first_row = np.concatenate([[0], np.cumsum(sizes)[:-1]])
    tasks = np.arange(N_SCHOOLS)
    splits = []
    for ranks, n_train in zip(positions, train_counts):
        n_train = n_train.astype(np.intp)
        owner = np.concatenate(
            [np.repeat(tasks, n_train), np.repeat(tasks, sizes - n_train)]
        )
        rows = first_row[owner] + ranks
        n_train_total = n_train.sum()
        splits.append((rows[:n_train_total], rows[n_train_total:]))
    return splits


def _to_frame(data, target):
    """``(frame, data, target)`` as pandas DataFrames, the way sklearn does."""
    try:
        import pandas as pd
    except ImportError as exc:
        raise ImportError("load_school with as_frame=True requires pandas.") from exc
    data = pd.DataFrame(data, columns=FEATURE_NAMES)
    target = pd.DataFrame(target, columns=TARGET_NAMES)
    frame = pd.concat([data, target], axis=1)
    return frame, frame[FEATURE_NAMES], frame[TARGET_NAMES]


@validate_params(
    {"return_X_y": ["boolean"], "as_frame": ["boolean"]},
    prefer_skip_nested_validation=True,
)
def load_school(*, return_X_y=False, as_frame=False):
    """Load the School data (multi-task regression, one task per school).

    Exam scores of 15362 pupils of 139 London secondary schools in 1985-1987
    (Goldstein, 1991), in the encoding of Argyriou, Evgeniou & Pontil (2008):
    27 attributes of the pupil and the school, and the pupil's exam score as
    the target of the task of its school. The 10 train/test splits used in the
    multi-task literature come with it.

    ==============   =============================================
    Samples total    15362 (22 to 251 per school)
    Dimensionality   27
    Features         25 binary, 2 percentages (integers)
    Targets          139 tasks; integer scores 1 - 70, one per row
    ==============   =============================================

    Parameters
    ----------
    return_X_y : bool, default=False
        If True, return ``(data, target)`` instead of a Bunch.

    as_frame : bool, default=False
        If True, ``data`` and ``target`` are pandas DataFrames (columns
        ``feature_names`` and ``target_names``) and the Bunch also holds
        ``frame``, both side by side. Requires pandas.

    Returns
    -------
    data : :class:`~sklearn.utils.Bunch`
        Dictionary-like object, with the following attributes.

        data : {ndarray, DataFrame} of shape (15362, 27)
            The attributes, as float64.
        target : {ndarray, DataFrame} of shape (15362, 139)
            The exam scores: row ``i`` holds the score of pupil ``i`` in the
            column of its school, ``school[i]``, and NaN in every other
            column (a missing target, as the multi-task estimators read it).
        school : ndarray of shape (15362,)
            The school (task) of each row, an integer from 0 to 138.
        feature_names : list of str
            The names of the 27 attributes.
        target_names : list of str
            ``"school_0"`` to ``"school_138"``.
        splits : list of 10 tuples (train, test)
            The train/test splits of Argyriou et al. (2008): 0-based integer
            row indices, about 75 % of each school's pupils in ``train``.
        frame : DataFrame of shape (15362, 166)
            Only when ``as_frame=True``: ``data`` and ``target`` side by side.
        DESCR : str
            The full description of the data.

    (data, target) : tuple if ``return_X_y`` is True
        The ``data`` and ``target`` above, ndarrays or (if ``as_frame``)
        DataFrames.

    Notes
    -----
    The source, the meaning of every attribute and the quirks of the data
    are in ``DESCR``. Works in the literature report the explained variance
    ``1 - MSE / Var(y)`` of the pooled test pupils, averaged over the splits.

    References
    ----------
    .. [1] H. Goldstein (1991). Multilevel modelling of survey data. *The
       Statistician*, 40(2), 235-244.
    .. [2] A. Argyriou, T. Evgeniou and M. Pontil (2008). Convex multi-task
       feature learning. *Machine Learning*, 73(3), 243-272.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_mtl.datasets import load_school
    >>> school = load_school()
    >>> school.data.shape, school.target.shape
    ((15362, 27), (15362, 139))
    >>> train, test = school.splits[0]
    >>> len(school.splits), len(train), len(test)
    (10, 11472, 3890)
    >>> y = school.target[np.arange(len(school.school)), school.school]
    >>> bool(np.isnan(y).any())
    False
    """
    arrays = _load_arrays()
    data = arrays["X"].astype(np.float64)
    school = arrays["school"].astype(np.intp)
    n_samples = school.shape[0]
    target = np.full((n_samples, N_SCHOOLS), np.nan)
    target[np.arange(n_samples), school] = arrays["y"]

    frame = None
    if as_frame:
        frame, data, target = _to_frame(data, target)
    if return_X_y:
        return data, target

    splits = _decode_splits(
        school, arrays["split_positions"], arrays["split_train_counts"]
    )
    return Bunch(
        data=data,
        target=target,
        school=school,
        feature_names=list(FEATURE_NAMES),
        target_names=list(TARGET_NAMES),
        splits=splits,
        frame=frame,
        DESCR=DESCR,
    )
