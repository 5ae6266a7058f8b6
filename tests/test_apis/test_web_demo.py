"""tools/web_demo.py in a real headless browser (Debian's chromium and
chromedriver): upload a video, type a prompt, see the answer and the
pictures; bad input shows its message on the page."""
import json
import os.path as osp
import shutil
import sys
import threading

import numpy as np
import pytest
from PIL import Image

from tests.conftest import CONFIGS
from tests.test_apis.conftest import KNOWN_BOX

pytest.importorskip('flask', reason="web extra: pip install -e '.[web]'")
webdriver = pytest.importorskip(
    'selenium.webdriver', reason="web extra: pip install -e '.[web]'")
CHROMIUM = shutil.which('chromium') or shutil.which('chromium-browser')
CHROMEDRIVER = shutil.which('chromedriver')
if not (CHROMIUM and CHROMEDRIVER):
    pytest.skip('no chromium + chromedriver (apt-get install chromium '
                'chromium-driver)', allow_module_level=True)

sys.path.insert(0, str(CONFIGS.parent / 'tools'))
import web_demo  # noqa: E402


@pytest.fixture(scope='module')
def server(region_model, tmp_path_factory):
    from werkzeug.serving import make_server

    from tpo.apis import TPOInferencer
    inferencer = TPOInferencer(region_model['config'], region_model['known'],
                               device='cpu')
    work_dir = str(tmp_path_factory.mktemp('web_demo'))
    app = web_demo.create_app(inferencer, work_dir, 'tiny')
    http = make_server('127.0.0.1', 0, app, threaded=True)
    thread = threading.Thread(target=http.serve_forever, daemon=True)
    thread.start()
    yield dict(url=f'http://127.0.0.1:{http.server_port}/',
               work_dir=work_dir, inferencer=inferencer)
    http.shutdown()


@pytest.fixture(scope='module')
def browser():
    from selenium.webdriver.chrome.service import Service
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in ('--headless=new', '--no-sandbox', '--disable-gpu',
                 '--disable-dev-shm-usage'):
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    driver.set_page_load_timeout(120)
    yield driver
    driver.quit()


def ask(browser, url: str, video: str, prompt: str, task: str = '',
        box: str = '') -> None:
    from selenium.webdriver.common.by import By
    from selenium.common.exceptions import WebDriverException
    from selenium.webdriver.support.ui import Select, WebDriverWait
    browser.get(url)
    browser.find_element(By.ID, 'video').send_keys(video)
    browser.find_element(By.ID, 'prompt').send_keys(prompt)
    if task:
        Select(browser.find_element(By.ID, 'task')).select_by_value(task)
        browser.find_element(By.ID, 'force_task').click()
    if box:
        browser.find_element(By.ID, 'box').send_keys(box)
    browser.execute_script('window.tpoFormPage = true')
    browser.find_element(By.ID, 'submit').click()
    # The answer is a new page (a new window object) once loaded; while the
    # browser navigates, its DOM queries may fail: retry them.
    WebDriverWait(browser, 120, ignored_exceptions=(WebDriverException, )
                  ).until(lambda b: b.execute_script(
                      'return window.tpoFormPage === undefined && '
                      'document.readyState === "complete"'))


def test_upload_ask_and_see_the_pictures(server, browser, demo_video):
    from selenium.webdriver.common.by import By
    ask(browser, server['url'], demo_video, 'Where is the red square?',
        task='region')
    answer = browser.find_element(By.ID, 'answer').text
    shown = json.loads(browser.find_element(By.ID, 'json').text)
    expected = server['inferencer'](demo_video, 'Where is the red square?',
                                    task='region', force_task=True)
    assert shown['text'] == expected['text']
    assert answer.startswith(f'answer: {expected["text"]}')
    assert shown['boxes'][0]['bbox'] == pytest.approx(KNOWN_BOX, abs=1e-3)
    assert 'box: [40.0, 28.8, 120.0, 57.6]' in answer

    for name in ('frames', 'animation'):
        image = browser.find_element(By.ID, name)
        # the browser decoded the picture the server wrote
        assert browser.execute_script(
            'return arguments[0].complete && arguments[0].naturalWidth',
            image) > 0, name
    run_id = browser.find_element(By.ID, 'frames').get_attribute(
        'src').split('/')[-2]
    run_dir = osp.join(server['work_dir'], run_id)
    with open(osp.join(run_dir, 'result.json')) as f:
        assert json.load(f) == shown
    frames = np.asarray(Image.open(osp.join(run_dir, 'frames.png')))
    assert frames.std() > 10


@pytest.mark.parametrize('prompt,box,message', [
    ('', '', 'is empty'),
    ('Follow it.', '1 2 3', 'four numbers'),
    ('Follow it.', '0 0 900 900', 'is not inside the 160x96'),
])
def test_bad_input_is_shown_on_the_page(server, browser, demo_video, prompt,
                                        box, message):
    from selenium.webdriver.common.by import By
    ask(browser, server['url'], demo_video, prompt, box=box)
    assert message in browser.find_element(By.ID, 'error').text


def test_unreadable_video_is_shown_on_the_page(server, browser, tmp_path):
    from selenium.webdriver.common.by import By
    broken = tmp_path / 'broken.mp4'
    broken.write_bytes(b'not a video' * 100)
    ask(browser, server['url'], str(broken), 'Where is the red square?')
    error = browser.find_element(By.ID, 'error').text
    assert 'broken.mp4' in error and 'Traceback' not in error
