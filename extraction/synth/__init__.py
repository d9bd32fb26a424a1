"""Generated reports for tests and bench: in goes a random seed, a layout family and an optional
planted error; out comes a report with known answers (`generator`), printed as text or web page
in its layout family (`renderers`) and drawn as Word, text PDF or scanned pages (`render`), as
real files arrive.
"""
