"""Tests of load_school, against figures checked once on the original .mat files.

The .mat files are not available here; the hard-coded numbers (counts, sums,
checksums) were computed from them when the packaged file was built and
checked to equal it exactly (see sklearn_mtl/datasets/data/README.md).
"""

import zlib

import numpy as np
import pytest

from sklearn_mtl.datasets import load_school

N_SAMPLES, N_FEATURES, N_SCHOOLS = 15362, 27, 139
N_TRAIN, N_TEST = 11472, 3890


@pytest.fixture(scope="module")
def school():
    return load_school()


def _crc(indices):
    """A checksum of integer values that pins their order too."""
    return zlib.crc32(np.asarray(indices, dtype="<i8").tobytes())


def test_shapes_and_dtypes(school):
    assert school.data.shape == (N_SAMPLES, N_FEATURES)
    assert school.target.shape == (N_SAMPLES, N_SCHOOLS)
    assert school.data.dtype == np.float64
    assert school.target.dtype == np.float64
    assert school.school.shape == (N_SAMPLES,)
    assert np.issubdtype(school.school.dtype, np.integer)
    assert len(school.feature_names) == N_FEATURES
    assert len(set(school.feature_names)) == N_FEATURES
    assert school.target_names == [f"school_{k}" for k in range(N_SCHOOLS)]
    assert school.frame is None
    for reference in ("Goldstein", "Argyriou", "splits"):
        assert reference in school.DESCR


def test_one_observed_target_per_row_in_its_school_column(school):
    observed = ~np.isnan(school.target)
    assert np.all(observed.sum(axis=1) == 1)
    assert np.array_equal(np.argmax(observed, axis=1), school.school)


def test_values_match_the_source(school):
    # rows grouped by school, every school present (22 to 251 pupils)
    assert np.all(np.diff(school.school) >= 0)
    sizes = np.bincount(school.school)
    assert sizes.size == N_SCHOOLS and (sizes.min(), sizes.max()) == (22, 251)
    y = school.target[np.arange(N_SAMPLES), school.school]
    assert np.array_equal(y, np.round(y)) and (y.min(), y.max()) == (1, 70)
    assert y.sum() == 316416 and (y**2).sum() == 9003434
    assert _crc(y) == 1578753530
    X = school.data
    assert np.array_equal(X, np.round(X)) and (X.min(), X.max()) == (0, 91)
    assert X.sum() == 1060986
    assert _crc(X) == 819514086


def test_one_hot_blocks(school):
    X, names = school.data, school.feature_names
    prefixes = ["year_", "gender_", "ethnic_", "school_gender_", "school_denomination_"]
    for prefix in prefixes:
        columns = [i for i, name in enumerate(names) if name.startswith(prefix)]
        assert np.all(X[:, columns].sum(axis=1) == 1), prefix
    # 15 pupils have no verbal-reasoning band: a quirk of the source
    vr_band = [names.index(f"vr_band_{k}") for k in (1, 2, 3)]
    assert np.sum(X[:, vr_band].sum(axis=1) == 0) == 15
    # the pupils of girls' schools are girls, those of boys' schools boys but one
    female = X[:, names.index("gender_female")]
    assert np.all(female[X[:, names.index("school_gender_girls")] == 1] == 1)
    assert np.sum(female[X[:, names.index("school_gender_boys")] == 1]) == 1


def test_splits(school):
    assert len(school.splits) == 10
    sizes = np.bincount(school.school)
    for train, test in school.splits:
        assert np.issubdtype(train.dtype, np.integer)
        assert np.issubdtype(test.dtype, np.integer)
        assert (len(train), len(test)) == (N_TRAIN, N_TEST)
        # disjoint, and together every row once
        assert np.array_equal(np.sort(np.r_[train, test]), np.arange(N_SAMPLES))
        # every school on both sides: floor(75 %) of its pupils train
        n_train = np.bincount(school.school[train], minlength=N_SCHOOLS)
        n_test = np.bincount(school.school[test], minlength=N_SCHOOLS)
        assert np.array_equal(n_train, np.floor(0.75 * sizes))
        assert n_train.min() == 16 and n_test.min() == 6
    # the literature's arrays, in their order (checksums taken on the .mat files)
    checksums = [(_crc(train), _crc(test)) for train, test in school.splits]
    assert checksums[0] == (3618730786, 4054522359)
    assert checksums[9] == (1713114582, 1409312416)
    assert [int(test.sum()) for _, test in school.splits] == [
        29879463, 29878914, 29880712, 29882485, 29879701,
        29880308, 29875822, 29880728, 29884244, 29882732,
    ]


def test_return_X_y(school):
    X, Y = load_school(return_X_y=True)
    assert np.array_equal(X, school.data)
    assert np.array_equal(Y, school.target, equal_nan=True)


def test_as_frame(school):
    pd = pytest.importorskip("pandas")
    bunch = load_school(as_frame=True)
    assert isinstance(bunch.data, pd.DataFrame)
    assert isinstance(bunch.target, pd.DataFrame)
    assert list(bunch.data.columns) == school.feature_names
    assert list(bunch.target.columns) == school.target_names
    assert list(bunch.frame.columns) == school.feature_names + school.target_names
    assert np.array_equal(bunch.data.to_numpy(), school.data)
    assert np.array_equal(bunch.target.to_numpy(), school.target, equal_nan=True)
    # the rest of the bunch is unchanged
    assert np.array_equal(bunch.school, school.school)
    assert len(bunch.splits) == 10

    X, Y = load_school(return_X_y=True, as_frame=True)
    assert isinstance(X, pd.DataFrame) and isinstance(Y, pd.DataFrame)
    assert X.shape == (N_SAMPLES, N_FEATURES) and Y.shape == (N_SAMPLES, N_SCHOOLS)


def test_arguments_are_validated():
    with pytest.raises(ValueError, match="return_X_y"):
        load_school(return_X_y="yes")
