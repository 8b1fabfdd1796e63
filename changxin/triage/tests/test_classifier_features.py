"""The fast character n-gram vectoriser, the near-duplicate grouping and the metrics."""

import numpy as np
import pytest

from changxin.triage.features import CharNgramTfidf, KeyIndex, decode_key, ngram_keys, normalize_text
from changxin.triage.grouping import held_out_split, near_duplicate_groups
from changxin.triage.metrics import classification_report

TEXTS = [
    "长辛店街道某小区楼道灯坏了一个多月，老人晚上上下楼很危险。",
    "丰台科技园一家公司拖欠三个月工资，请劳动监察部门帮忙。",
    "小区楼道灯坏了，物业不修。",
    "ＡＢＣ　12号＊＊楼\n漏水",
    "",
    "𠀀𠀁 rare characters beyond the BMP",
]


def test_normalize_text():
    assert normalize_text("Ａ市　丰台区ABC，123号*** 路\n好") == "a市丰台区abc,000号路好"
    assert normalize_text("  ") == ""
    assert normalize_text("一二三四五", max_chars=3) == "一二三"
    assert normalize_text("𠀀x") == "𠀀x"


def test_keys_stay_within_documents_and_decode():
    codes = np.array([ord(c) for c in "abcd"], dtype=np.int64)
    docs, keys = ngram_keys(codes, np.array([0, 0, 1, 1]), (1, 3))
    grams = sorted((int(d), decode_key(int(k))) for d, k in zip(docs, keys, strict=True))
    assert grams == [(0, "a"), (0, "ab"), (0, "b"), (1, "c"), (1, "cd"), (1, "d")]


def test_vectoriser_matches_scikit_learn():
    from sklearn.feature_extraction.text import TfidfVectorizer

    normalised = [normalize_text(t) for t in TEXTS]
    ours = CharNgramTfidf((1, 3), min_df=1)
    X = ours.fit_transform(TEXTS)
    reference = TfidfVectorizer(analyzer="char", ngram_range=(1, 3), lowercase=False, sublinear_tf=True)
    R = reference.fit_transform(normalised)
    columns = [reference.vocabulary_[name] for name in ours.feature_names(range(ours.n_features))]
    assert X.shape == R.shape
    assert np.abs(X.toarray() - R[:, columns].toarray()).max() < 1e-12
    # transform() of the same texts gives the same matrix as fit_transform()
    assert np.abs(ours.transform(TEXTS) - X).max() < 1e-12
    assert ours.transform(["全新的没见过的字"]).shape == (1, ours.n_features)


def test_min_df_and_max_features():
    vectoriser = CharNgramTfidf((1, 2), min_df=2, max_features=5).fit(TEXTS)
    assert vectoriser.n_features == 5
    assert list(vectoriser.vocabulary_) == sorted(vectoriser.vocabulary_)


def test_vectoriser_survives_pickling():
    import pickle

    vectoriser = CharNgramTfidf().fit(TEXTS)
    before = vectoriser.transform(TEXTS)
    clone = pickle.loads(pickle.dumps(vectoriser))
    assert np.abs(clone.transform(TEXTS) - before).max() == 0


def test_key_index_finds_present_and_rejects_absent_keys():
    rng = np.random.default_rng(0)
    keys = np.unique(rng.integers(0, 2**62, size=5000))
    index = KeyIndex(keys)
    queries = np.concatenate([keys[::-1], rng.integers(0, 2**62, size=3000)])
    expected = np.searchsorted(keys, queries)
    expected[(expected >= len(keys)) | (keys[np.minimum(expected, len(keys) - 1)] != queries)] = -1
    assert np.array_equal(index.lookup(queries), expected)
    assert KeyIndex(np.empty(0, np.int64)).lookup(np.array([1, 2])).tolist() == [-1, -1]


def test_near_duplicates_are_grouped_and_kept_on_one_side():
    base = "我家楼下的烧烤店每天晚上油烟直排，窗户都不敢开，衣服上全是油烟味，多次反映没有改善。"
    texts = [
        base,
        base.replace("每天", "天天") + "请尽快处理。",
        "学校门口没有斑马线，孩子过马路很危险，希望增设信号灯。",
    ]
    titles = ["烧烤油烟扰民", "烧烤店油烟直排", "学校门口缺少斑马线"]
    groups = near_duplicate_groups(titles, texts)
    assert groups[0] == groups[1] != groups[2]
    same_title = near_duplicate_groups(["关于小区停车难的问题反映", "关于小区停车难的问题反映"], ["甲", "乙"])
    assert same_title[0] == same_title[1]

    labels = ["a", "b"] * 50
    groups = np.repeat(np.arange(25), 4)
    train, test = held_out_split(labels, groups, test_size=0.2)
    assert not set(groups[train]) & set(groups[test])
    assert len(test) == 20


def test_report_agrees_with_scikit_learn():
    from sklearn.metrics import accuracy_score, confusion_matrix, f1_score

    rng = np.random.default_rng(1)
    classes = ["甲", "乙", "丙"]
    truth = [classes[i] for i in rng.integers(0, 3, size=200)]
    proba = rng.dirichlet(np.ones(3), size=200)
    predicted = [classes[i] for i in proba.argmax(axis=1)]
    report = classification_report(truth, classes, proba)
    assert report["accuracy"] == pytest.approx(accuracy_score(truth, predicted), abs=1e-4)
    assert report["macro_f1"] == pytest.approx(f1_score(truth, predicted, average="macro"), abs=1e-4)
    assert report["confusion"] == confusion_matrix(truth, predicted, labels=classes).tolist()
    assert 0 <= report["ece"] <= 1 and 0 <= report["brier"] <= 2


def test_report_counts_unknown_true_labels_as_errors():
    report = classification_report(["甲", "丁"], ["甲", "乙"], np.array([[0.9, 0.1], [0.8, 0.2]]))
    assert report["labels"] == ["甲", "乙", "丁"]
    assert report["accuracy"] == 0.5
    assert report["per_class"]["丁"]["support"] == 1


@pytest.mark.parametrize("method", ["nbsvm-char-title", "svc-char-title", "cnb-char-title"])
def test_training_and_inference_see_the_same_features(method):
    """Guards against the training path and the inference path drifting apart."""
    from changxin.triage import classifier, csvio
    from changxin.triage.methods import METHODS, LinearTextModel

    rows = csvio.read_rows(classifier.DEMO_DATA, ("id", "title", "content", "label"))
    texts = [classifier.row_text(row) for row in rows]
    model = LinearTextModel.fit(texts, [row["label"] for row in rows], method=method, calibration_folds=0)
    fitted = LinearTextModel._features(METHODS[method].blocks(), texts, fit=True)
    assert abs(model.features(texts) - fitted).max() < 1e-12
    # the scorer that skips the sparse matrix agrees with the matrix product
    fresh = ["楼道灯坏了一个月", classifier.demand_text("噪音", "工地夜间施工"), "", "\n"]
    for batch in (texts[:40], fresh):
        expected = np.asarray(model.features(batch) @ model.coef) + model.intercept
        assert np.allclose(model.decision_function(batch), expected)
    # the title block reads the title only
    field, title_vectoriser, _ = model.blocks[-1]
    assert field == "title" and title_vectoriser.n_features < model.blocks[0][1].n_features / 3
