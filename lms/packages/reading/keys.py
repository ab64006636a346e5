"""The keys of each mapping in a package, each with the example line a problem shows.

The keys of an example are also the keys known in that place: any other is reported.
"""

MANIFEST_EXAMPLES = {
    "format": "format: 1",
    "slug": "slug: holistic-wellness",
    "title": "title: Holistic wellness",
    "version": 'version: "1.0.0"',
    "summary": "summary: A four-part series on caring for yourself in the work.",
    "language": "language: en",
    "license": "license: CC-BY-4.0",
    "authors": "authors: [Amina Yusuf]",
    "estimated_minutes": "estimated_minutes: 120",
    "sequence": "sequence: linear",
    "lessons": "lessons: [01-arriving.md, 02-listening.md]",
    "attachments": "attachments: [{path: attachments/plan.pdf, title: Wellness plan}]",
}
LESSON_EXAMPLES = {
    "slug": "slug: arriving",
    "title": "title: Arriving with yourself",
    "minutes": "minutes: 20",
    "attachments": "attachments: [{path: attachments/card.pdf, title: Check-in card}]",
    "prompts": 'prompts: [{id: first-thoughts, text: "What did you notice?"}]',
}
PROMPT_EXAMPLES = {"id": "id: first-thoughts", "text": 'text: "What did you notice?"'}
ATTACHMENT_EXAMPLES = {"path": "path: attachments/plan.pdf", "title": "title: Wellness plan"}
# In this order: a package missing several is told of them in this order.
REQUIRED_MANIFEST = (
    "format",
    "slug",
    "title",
    "version",
    "summary",
    "language",
    "license",
    "authors",
    "estimated_minutes",
    "sequence",
)
