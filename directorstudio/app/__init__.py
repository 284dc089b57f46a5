"""The DirectorStudio app: a Textual UI over the client library's ViewModels.

``directorstudio app`` runs it in the terminal, ``directorstudio app --web`` serves it in a
browser (textual-serve). The UI reads and writes only through
:mod:`directorstudio_client.viewmodels`; this package adds what a device needs around them:
the signed-in session kept between launches (:mod:`.session`), the cache folder and the clips
downloaded next to it (:mod:`.downloads`), and the screens. Screens, keys and how each
ViewModel maps to the specification: ``docs/app.md``.
"""

from directorstudio.app.config import AppConfig
from directorstudio.app.main import DirectorStudioApp

__all__ = ["AppConfig", "DirectorStudioApp"]
