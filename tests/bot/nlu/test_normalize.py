"""Speech transcripts become text the NLU reads like typed text: tables of real spoken forms."""
import pytest

from bot.nlu.normalize import normalize


@pytest.mark.parametrize(
    ("spoken", "written"),
    [
        # fillers and stutters
        ("euh ben je je voudrais euh créer un compte", "je voudrais créer un compte"),
        ("heu hum bah j'ai oublié mon mot de passe", "j'ai oublié mon mot de passe"),
        ("euhhh je continue je continue jusqu'à la fin", "je continue jusqu'à la fin"),
        ("Bonjour, euh, je voudrais lier ma carte.", "Bonjour, je voudrais lier ma carte."),
        ("c'était un un un super service", "c'était un super service"),
        ("vous vous êtes trompé", "vous vous êtes trompé"),
        ("le mot de passe passe pas", "le mot de passe passe pas"),
        ("je dois faire faire une carte", "je dois faire faire une carte"),
        ("Je m'appelle Ben Tremblay", "Je m'appelle Ben Tremblay"),
        # card digits, said one by one, in pairs, in threes
        ("un deux trois quatre cinq six", "123456"),
        ("ma carte finit par six cinq quatre trois deux un", "ma carte finit par 654321"),
        ("zéro zéro un deux trois quatre", "001234"),
        ("douze trente-quatre cinquante-six", "12 34 56"),
        ("cent vingt-trois quatre cent cinquante-six", "123 456"),
        # phone numbers grouped as Quebecers say them
        ("quatre cent cinquante neuf cent soixante et un deux mille un", "450 961 2001"),
        ("quatre cinq zéro neuf six un deux zéro zéro un", "450 961 2001"),
        ("quatre cinquante neuf six un vingt zéro un", "450 961 2001"),
        ("quatre cent cinquante, cinq cent cinquante-cinq, zéro cent vingt-trois", "450 555 0123"),
        ("un quatre cinq zéro neuf six un deux zéro zéro un", "1 450 961 2001"),
        ("cinq cinq cinq zéro un quatre deux", "555 0142"),
        ("le poste quatre mille", "le poste 4000"),
        # dates
        ("le douze mars mille neuf cent quatre-vingt-cinq", "le 12 mars 1985"),
        ("le douze mars dix-neuf cent quatre-vingt-cinq", "le 12 mars 1985"),
        ("je suis né le deux novembre mil neuf cent soixante-dix-neuf", "je suis né le 2 novembre 1979"),
        ("premier juin deux mille quinze", "1er juin 2015"),
        ("trente et un décembre deux mille un", "31 décembre 2001"),
        ("vingt et un juillet quatre-vingt-dix", "21 juillet 90"),
        # emails
        ("marie point tremblay arobase example point com", "marie.tremblay@example.com"),
        ("mon courriel c'est jean tiret gagnon arobase videotron point ca merci",
         "mon courriel c'est jean-gagnon@videotron.ca merci"),
        ("e tiret bas faivre sept sept arobase wanadoo point fr", "e_faivre77@wanadoo.fr"),
        ("j e a n underscore un arobase gmail point com", "jean_1@gmail.com"),
        ("loisirs arobase ville point terrebonne point qc point ca", "loisirs@ville.terrebonne.qc.ca"),
        # common unaccented spellings
        ("mon numero de telephone", "mon numéro de téléphone"),
        ("Carte acces expiree", "Carte accès expirée"),
        ("je n'arrive pas a creer mon compte", "je n'arrive pas a créer mon compte"),
    ],
)
def test_spoken_forms_are_written_out(spoken, written):
    assert normalize(spoken) == written


@pytest.mark.parametrize(
    "ordinary",
    [
        "un peu",
        "une fois",
        "j'ai un problème avec une carte",
        "quoi de neuf",
        "un vélo neuf",
        "le premier ministre",
        "deux trois jours",
        "cent pour cent",
        "je suis à la page un",
        "ça fait mille fois que j'essaie",
        "nous nous sommes inscrits",
        "le point de service",
        "à ce point-là",
        "un tiret",
    ],
)
def test_ordinary_speech_gets_no_number(ordinary):
    assert normalize(ordinary) == ordinary


@pytest.mark.parametrize(
    "typed",
    [
        "Mon numéro de carte est 123456.",
        "Je suis née le 1985-03-12",
        "Mon courriel est marie.tremblay@example.com",
        "Voir https://inscriptions.ville.terrebonne.qc.ca/IC3P.WebSite/#/U2010 svp",
        "450 961-2001 poste 4000",
        '/inform{"card_digits": "123456"}',
        "",
        "   ",
    ],
)
def test_typed_text_is_left_alone(typed):
    assert normalize(typed) == typed


def test_small_numbers_in_a_phrase_become_digits_only_when_compound():
    assert normalize("vingt-quatre heures sur sept") == "24 heures sur sept"
    assert normalize("j'ai vingt-deux ans") == "j'ai 22 ans"


@pytest.mark.parametrize("odd", ["et", "et un", "vingt et", "arobase", "point arobase point", "tiret bas",
                                 "zéro " * 40, "un " * 30, "quatre-vingt-" , "- , ; !", "euh euh euh"])
def test_odd_inputs_never_crash(odd):
    assert isinstance(normalize(odd), str)


@pytest.mark.parametrize(("said", "written"), [
    ("jdois tu de l'argent à la ville", "je dois tu de l'argent à la ville"),
    ("Chu pas capable de me connecter", "Je suis pas capable de me connecter"),
    ("j'veux lier ma carte", "je veux lier ma carte"),
    ("jai pas reçu le courriel", "j'ai pas reçu le courriel"),
])
def test_quebec_contractions_are_written_out(said, written):
    assert normalize(said) == written


def test_a_word_that_only_starts_like_a_contraction_is_kept():
    assert normalize("jdoiseau chuchote") == "jdoiseau chuchote"
