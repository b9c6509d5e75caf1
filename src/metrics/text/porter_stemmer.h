// NLTK's PorterStemmer in its default mode (NLTK_EXTENSIONS; nltk 3.8.1 nltk/stem/porter.py), the stemmer
// nltk.translate.meteor_score uses: Porter's five steps with NLTK's departures (the irregular-form pool "skies" ->
// "sky", "dying" -> "die", ...; words of at most two characters unchanged; "ies"/"ied" of four characters -> "ie";
// step 1c's y -> i only after a consonant that is not the first letter; "alli" re-entering step 2; "fulli" and
// "logi" rules; a two-letter vowel-consonant stem counting as cvc). Works on code points, as Python's str does;
// any character other than a, e, i, o, u (and y after a consonant) is a consonant.
#pragma once

#include <string>
#include <string_view>

namespace loom::metrics::text {

// stem(word) with to_lowercase=True: the word is lowercased with Python's str.lower() first.
std::string nltk_porter_stem(std::string_view utf8_word);

}  // namespace loom::metrics::text
