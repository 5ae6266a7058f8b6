"""With `collect_errors` (the dataset checker), a reader records every
malformed record, each naming file, record and field, and keeps the rest."""
import json

from tpo.datasets import QVHighlightsDataset, VideoChat2ITDataset


def build(cls, **kwargs):
    dataset = cls(lazy_init=True, **kwargs)
    dataset.collect_errors = True
    dataset.full_init()
    return dataset


def test_qvhighlights_lists_every_bad_line(tmp_path):
    good = dict(qid=1, query='q', vid='v', duration=10,
                relevant_windows=[[0, 2]], relevant_clip_ids=[0],
                saliency_scores=[[1, 2, 3]])
    rows = [good, dict(good, qid=2, duration=-1),
            dict(good, qid=3, relevant_windows=[])]
    path = tmp_path / 'ann.jsonl'
    path.write_text('\n'.join(json.dumps(r) for r in rows))
    dataset = build(QVHighlightsDataset, ann_file=str(path))
    assert [d['qid'] for d in dataset] == [1]
    messages = [str(e) for e in dataset.parse_errors]
    assert len(messages) == 2
    assert 'ann.jsonl' in messages[0] and 'line 2' in messages[0] and \
        "'duration'" in messages[0]
    assert 'line 3' in messages[1] and "'relevant_windows'" in messages[1]


def test_videochat2_it_lists_every_bad_entry(tmp_path):
    good = dict(video='a.mp4', QA=[dict(i='', q='q', a='a')])
    path = tmp_path / 'it.json'
    path.write_text(json.dumps([dict(QA=[]), good, dict(video='b.mp4',
                                                         QA=[])]))
    dataset = build(VideoChat2ITDataset, ann_file=str(path))
    assert len(dataset) == 1
    assert ['index 0' in str(e) for e in dataset.parse_errors] == [True,
                                                                   False]
    assert all("'" in str(e) and 'it.json' in str(e)
               for e in dataset.parse_errors)
