"""Every model of the OMG BPMN MIWG test suite either imports or is refused by name.

The files live outside the repository (``../shared/testdata/bpmn-miwg`` from its root).
The outcome for each file is pinned, so a change in what the platform accepts shows up
here and in docs/decisions/0011-workflow-engine.md.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tongban.platform.workflow.models import ProcessDefinition
from tongban.platform.workflow.services import BpmnRefused, definition_upload

REPOSITORY = Path(__file__).resolve().parents[4]
CORPUS = REPOSITORY.parent / "shared" / "testdata" / "bpmn-miwg"

# file -> None when it imports, else (element, element_id) of the refusal
EXPECTED: dict[str, tuple[str, str] | None] = {
    "Reference/A.1.0.bpmn": None,
    "Reference/A.2.0.bpmn": ("sequenceFlow", "_f1478fb7-98c4-4c01-8c15-68bd04c91535"),
    "Reference/A.2.1.bpmn": ("sequenceFlow", "_To9Z7TOCEeSknpIVFCxNIQ"),
    "Reference/A.3.0.bpmn": ("boundaryEvent", "_428dcbf5-8e5e-48e0-9c0c-d93003fa8c82"),
    "Reference/A.4.0.bpmn": ("process", "WFP-6-2"),
    "Reference/A.4.1.bpmn": ("process", "sid-54D696FD-DEDC-45F3-99DB-1404DA433FC4"),
    "Reference/B.1.0.bpmn": ("process", "WFP-6-2"),
    "Reference/B.2.0.bpmn": ("process", "WFP-6-2"),
    "Reference/C.1.0.bpmn": ("serviceTask", "archiveInvoice"),
    "Reference/C.1.1.bpmn": ("serviceTask", "archiveInvoice"),
    "Reference/C.2.0.bpmn": ("process", "WFP-Page_1-2"),
    "Reference/C.3.0.bpmn": ("boundaryEvent", "Bpmn_BoundaryEvent_sS9gABqGEeWDuOtG0oS24A"),
    "Reference/C.4.0.bpmn": ("process", "_f0035388-f829-470c-b82b-0b15c3da3399"),
    "Reference/C.5.0.bpmn": ("sequenceFlow", "_e25b9c2d-690e-470b-8993-112002994fc2"),
    "Reference/C.6.0.bpmn": ("intermediateCatchEvent", "_15fef309-6718-4352-9b71-f757bcd8c023"),
    "Reference/C.7.0.bpmn": ("serviceTask", "_64eabfe9-6947-43eb-ac45-8d331745f86c"),
    "Reference/C.8.0.bpmn": ("sendTask", "_a97c1a48-faba-447b-bfa6-7aa81a6fe0a0"),
    "Reference/C.8.1.bpmn": ("serviceTask", "_2b960d84-feb1-46a9-a1a1-c300dd996b99"),
    "Reference/C.9.0.bpmn": ("serviceTask", "SendTask_SendPolicy"),
    "Reference/C.9.1.bpmn": ("sendTask", "SendTask_RequestDocument"),
    "Reference/C.9.2.bpmn": ("boundaryEvent", "TimerEvent_Timeout"),
    "B.2.0-by-vendor/ADONIS_17.0.bpmn": ("process", "process_6ce262f8-0e1d-4d37-af38-b8746b086f7b"),
    "B.2.0-by-vendor/ARIS_10.2025.07.bpmn": (
        "process",
        "Process_ID-9f93e12e-7236-11e9-69f8-f48e38b53512",
    ),
    "B.2.0-by-vendor/Bonita_BPM_7.2.3.bpmn": ("process", "_IA578LWaEeaTvLEWv0tJ7A"),
    "B.2.0-by-vendor/Camunda_Eclipse_Plugin_3.0.0.bpmn": ("process", "Process_2"),
    "B.2.0-by-vendor/MID_Innovator_15.1.1.11026.bpmn": ("process", "WFP-6-2"),
    "B.2.0-by-vendor/SAP_Signavio_Process_Manager_19.9.0.bpmn": (
        "process",
        "sid-1A97D63B-E3EB-4DD3-A557-3F91F6548019",
    ),
    "B.2.0-by-vendor/Trisotech_Workflow_Modeler_12.6.3.bpmn": (
        "process",
        "_ae408025-d562-4e0f-9f06-23051cbaad8f",
    ),
    "B.2.0-by-vendor/Yaoqiang_BPMN_Editor_4.0.bpmn": ("process", "PROCESS_2"),
}


def _corpus() -> list[Path]:
    if not CORPUS.is_dir():
        return []
    return sorted(CORPUS.rglob("*.bpmn"))


def test_the_corpus_is_there_when_ci_requires_it():
    """CI sets TONGBAN_REQUIRE_TESTDATA=1: there a missing corpus fails instead of skipping."""
    if os.environ.get("TONGBAN_REQUIRE_TESTDATA") != "1":
        pytest.skip("TONGBAN_REQUIRE_TESTDATA is not set")
    assert CORPUS.is_dir(), f"the BPMN MIWG corpus is not at {CORPUS}"


needs_corpus = pytest.mark.skipif(
    not CORPUS.is_dir(), reason=f"the BPMN MIWG corpus is not at {CORPUS}"
)


@needs_corpus
def test_the_corpus_is_complete():
    names = [str(path.relative_to(CORPUS)) for path in _corpus()]
    assert len([n for n in names if n.startswith("Reference/")]) == 21
    assert len([n for n in names if n.startswith("B.2.0-by-vendor/")]) == 8
    assert sorted(names) == sorted(EXPECTED)


@needs_corpus
@pytest.mark.django_db
@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_each_model_imports_or_is_refused_by_element_and_id(name):
    content = (CORPUS / name).read_bytes()
    expected = EXPECTED[name]
    key = "miwg." + name.rsplit("/", 1)[-1].removesuffix(".bpmn").replace(" ", "_")[:80]

    if expected is None:
        definition = definition_upload(actor=None, key=key, name=name, xml=content)
        assert definition.version == 1
        assert definition.task_map
        return

    with pytest.raises(BpmnRefused) as caught:
        definition_upload(actor=None, key=key, name=name, xml=content)
    refusal = caught.value
    assert refusal.element
    assert refusal.element_id
    assert refusal.element.encode() in content
    assert f'"{refusal.element_id}"'.encode() in content
    assert refusal.element_id in refusal.message
    assert (refusal.element, refusal.element_id) == expected
    assert ProcessDefinition.objects.count() == 0  # nothing written on refusal
