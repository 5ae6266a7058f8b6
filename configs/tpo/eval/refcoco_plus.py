# RefCOCO+ (paper Table 7): refcoco.py on RefCOCO+'s refs (val, testA,
# testB).
_base_ = ['./refcoco.py']

refs = 'refcoco+/refs(unc).json'
instances = 'refcoco+/instances.json'
test_dataloader = dict(dataset=dict(ann_file=refs, instances_file=instances,
                                    source='refcoco+'))
