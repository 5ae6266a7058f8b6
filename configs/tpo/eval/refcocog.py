# RefCOCOg, umd splits (paper Table 7): refcoco.py on RefCOCOg's refs (val,
# test).
_base_ = ['./refcoco.py']

refs = 'refcocog/refs(umd).json'
instances = 'refcocog/instances.json'
test_dataloader = dict(dataset=dict(ann_file=refs, instances_file=instances,
                                    source='refcocog'))
