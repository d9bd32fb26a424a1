"""Stage 2, by a model: in goes a report's text and an OpenAI-compatible endpoint; out comes the
same Extraction as the layout parser's, from narrow per-section calls through instructor
(`llm`, answering in the response models of `shapes`, with the versioned prompts of prompts/ and
every value grounded in the text), or the two combined section by section (`cascade`: layout |
llm | cascade | both).
"""
