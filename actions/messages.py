"""What the guided flows say, on the web and on the phone line (Quebec French, "vous").

The call centre's number comes from the contact file (`bot.contact`), written `CALL_CENTRE` here.

The static answers of the guide live in domain.yml; these are the flows' own sentences, said only by
custom actions (so they are here rather than domain responses no story or rule would use).
"""
from __future__ import annotations

from dataclasses import dataclass

from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.common import directory, is_phone

CALL_CENTRE = "{call_centre}"


@dataclass(frozen=True)
class Message:
    """A sentence for the web (markdown allowed) and, when it differs, for the phone line."""

    web: str
    spoken: str | None = None
    buttons: tuple[tuple[str, str], ...] = ()

    def text(self, spoken: bool) -> str:
        """The text for the channel, with the call centre's number from the contact file."""
        text = self.spoken if spoken and self.spoken is not None else self.web
        return text.replace(CALL_CENTRE, directory().call_centre.spoken)

    def send(self, dispatcher: CollectingDispatcher, tracker: Tracker) -> None:
        """Say it on the conversation's channel."""
        spoken = is_phone(tracker)
        buttons = [] if spoken else [{"title": title, "payload": payload} for title, payload in self.buttons]
        dispatcher.utter_message(text=self.text(spoken), buttons=buttons)


# --- Card linking ---
CARD_LINKED = Message(
    "**Votre dossier est maintenant lié à votre dossier à la Ville.** Cliquez sur votre nom, puis sur "
    "**Mon profil** pour voir votre dossier. Si vous avez créé un dossier famille, vous pouvez inscrire "
    "tous les membres de votre famille à partir de votre compte.",
    "Votre dossier est maintenant lié à votre dossier à la Ville. Sur le portail, cliquez sur votre nom, "
    "puis sur Mon profil pour voir votre dossier.",
)
CARD_ALREADY_LINKED = Message(
    "Votre compte est déjà lié à votre dossier à la Ville : vous n'avez rien d'autre à faire. "
    "Cliquez sur votre nom, puis sur **Mon profil** pour voir votre dossier.",
    "Votre compte est déjà lié à votre dossier à la Ville : vous n'avez rien d'autre à faire. "
    "Sur le portail, cliquez sur votre nom, puis sur Mon profil.",
)
CARD_MISMATCH = Message(
    "Ces renseignements ne correspondent pas à notre dossier. Vérifiez les six derniers chiffres de votre "
    "carte, puis votre date de naissance ou votre numéro de téléphone, et réessayez. "
    "Écrivez « annuler » pour arrêter.",
    "Ces renseignements ne correspondent pas à notre dossier. Vérifiez-les et réessayons, "
    "ou dites annuler pour arrêter.",
)
CARD_LOCKED = Message(
    "Par sécurité, la liaison de la carte est bloquée pendant 15 minutes après plusieurs essais qui ne "
    "correspondent pas. Vous pourrez réessayer plus tard. Une personne du centre d'appels peut aussi vous aider :",
    "Par sécurité, la liaison de la carte est bloquée pendant 15 minutes après plusieurs essais. "
    "Une personne du centre d'appels peut vous aider.",
)
CARD_NOT_ADULT = Message(
    "Ces renseignements correspondent à la carte d'un membre de la famille qui n'est pas l'adulte en charge. "
    "Il faut le numéro de la carte de la personne adulte qui sera en charge du compte, et non le numéro de "
    "la Carte Accès Terrebonne de l'un de vos enfants. Avec votre dossier famille, vous pourrez ensuite "
    "inscrire tous les membres de votre famille à partir de votre compte.",
)
CARD_NO_ACCOUNT = Message(
    "Je ne trouve pas votre compte en ligne. Déconnectez-vous du portail, reconnectez-vous, puis réessayez. "
    f"Si le problème continue, le centre d'appels peut vous aider au **{CALL_CENTRE}**, "
    "pendant nos heures d'ouverture.",
    "Je ne trouve pas votre compte en ligne. Le centre d'appels peut vous aider au "
    f"{CALL_CENTRE}, pendant nos heures d'ouverture.",
)
CARD_IN_USE = Message(
    "Ce dossier à la Ville est déjà lié à un autre compte en ligne. Le centre d'appels peut vérifier avec vous "
    f"au **{CALL_CENTRE}**, pendant nos heures d'ouverture.",
    "Ce dossier à la Ville est déjà lié à un autre compte en ligne. Le centre d'appels peut vérifier avec vous "
    f"au {CALL_CENTRE}, pendant nos heures d'ouverture.",
)
LINK_NEEDS_LOGIN = Message(
    "Pour que je lie votre carte avec vous ici, connectez-vous d'abord à votre compte sur le portail des "
    "inscriptions en ligne, puis ouvrez l'assistant à partir du portail.",
    "Pour lier votre carte, il faut être connecté à votre compte sur le portail des inscriptions en ligne : "
    "suivez ces étapes sur le site.",
)

# --- Dossier and identification ---
DOSSIER_NOT_LINKED = Message(
    "Votre compte n'est pas encore lié à votre dossier à la Ville : je ne peux donc pas encore voir ces "
    "renseignements. Voulez-vous activer votre profil maintenant?",
    "Votre compte n'est pas encore lié à votre dossier à la Ville : je ne peux donc pas encore voir ces "
    "renseignements.",
    buttons=(("Activer mon profil", "/link_card"),),
)
OFFER_IDENTIFICATION = Message(
    "Je peux aussi vous donner ces renseignements ici si vous vous identifiez avec votre Carte Accès "
    "Terrebonne. Voulez-vous vous identifier?",
    "Je peux aussi vous donner ces renseignements si vous vous identifiez avec votre Carte Accès Terrebonne. "
    "Voulez-vous vous identifier?",
    buttons=(("Oui, m'identifier", "/affirm"), ("Non merci", "/deny")),
)
IDENTIFIED = Message("Merci, vous êtes identifié pour cette conversation.")
IDENTIFY_MISMATCH = Message(
    "Ces renseignements ne correspondent pas à notre dossier. Vérifiez-les et réessayez, "
    "ou écrivez « annuler » pour arrêter.",
    "Ces renseignements ne correspondent pas à notre dossier. Vérifiez-les et réessayons, "
    "ou dites annuler pour arrêter.",
)
IDENTIFY_LOCKED = Message(
    "Par sécurité, l'identification est bloquée pendant 15 minutes après plusieurs essais qui ne "
    "correspondent pas. Une personne du centre d'appels peut vous aider :",
    "Par sécurité, l'identification est bloquée pendant 15 minutes après plusieurs essais. "
    "Une personne du centre d'appels peut vous aider.",
)
IDENTIFICATION_DECLINED = Message("D'accord. Avez-vous une autre question sur les inscriptions en ligne?")

# --- Confirmation email ---
CONFIRMATION_RESENT = Message(
    "Je vous ai renvoyé le courriel de confirmation. Consultez votre boîte courriel, y compris vos courriels "
    "indésirables, puis cliquez sur **Confirmation de mon adresse courriel**.",
    "Je vous ai renvoyé le courriel de confirmation. Consultez votre boîte courriel, y compris vos courriels "
    "indésirables, puis cliquez sur Confirmation de mon adresse courriel.",
)
CONFIRMATION_RATE_LIMITED = Message(
    "Le courriel de confirmation a déjà été renvoyé plusieurs fois dans la dernière heure. Attendez quelques "
    "minutes et regardez aussi dans vos courriels indésirables. S'il n'arrive toujours pas, le centre "
    f"d'appels peut vous aider au **{CALL_CENTRE}**, pendant nos heures d'ouverture.",
    "Le courriel de confirmation a déjà été renvoyé plusieurs fois dans la dernière heure. Attendez quelques "
    "minutes et regardez aussi dans vos courriels indésirables. S'il n'arrive toujours pas, le centre "
    f"d'appels peut vous aider au {CALL_CENTRE}, pendant nos heures d'ouverture.",
)
EMAIL_ALREADY_CONFIRMED = Message("Cette adresse courriel est déjà confirmée : vous pouvez vous connecter.")
EMAIL_NO_ACCOUNT = Message(
    "Je ne trouve pas de compte avec cette adresse courriel. Vérifiez-en l'orthographe, ou créez votre compte :"
)

# --- Password check ---
NEVER_SHARE = "Par prudence, ne communiquez jamais votre mot de passe, même ici : je ne vous le demanderai jamais."
